using AwsTunnel.Engine.Tunnel;

namespace AwsTunnel.Tests.Engine;

public class ReconnectBackoffTests
{
    [Fact]
    public void After_a_network_loss_the_configured_delay_is_used_as_is()
    {
        var backoff = new ReconnectBackoff(2500);

        backoff.NetworkError();

        Assert.Equal(TimeSpan.FromMilliseconds(2500), backoff.Next());
    }

    [Fact]
    public void Consecutive_server_errors_double_the_delay_within_twenty_percent_jitter()
    {
        var backoff = new ReconnectBackoff(1000, new Random(7));
        var delays = new List<double>();
        for (int i = 0; i < 4; i++)
        {
            backoff.ServerError();
            delays.Add(backoff.Next().TotalMilliseconds);
        }

        for (int i = 0; i < delays.Count; i++)
        {
            double nominal = 1000 * Math.Pow(2, i);
            Assert.InRange(delays[i], nominal * 0.8, nominal * 1.2);
        }
    }

    [Fact]
    public void The_delay_never_exceeds_a_minute_plus_jitter()
    {
        var backoff = new ReconnectBackoff(2500);
        for (int i = 0; i < 40; i++)
        {
            backoff.ServerError();
        }

        Assert.InRange(backoff.Next().TotalMilliseconds, 48000, 72000);
    }

    [Fact]
    public void A_network_error_after_server_errors_returns_to_the_configured_delay()
    {
        var backoff = new ReconnectBackoff(500);
        backoff.ServerError();
        backoff.ServerError();

        backoff.NetworkError();

        Assert.Equal(TimeSpan.FromMilliseconds(500), backoff.Next());
    }
}
