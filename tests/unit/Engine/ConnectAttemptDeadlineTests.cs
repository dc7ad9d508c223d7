using AwsTunnel.Engine.Protocol;
using AwsTunnel.Engine.Transport;
using AwsTunnel.Engine.Tunnel;
using AwsTunnel.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;

namespace AwsTunnel.Tests.Engine;

/// <summary>
/// Every connection attempt has a deadline that covers the wait for the 101: a front end that
/// accepts and never answers the upgrade fails that attempt, and reconnecting goes on.
/// </summary>
public class ConnectAttemptDeadlineTests
{
    [Fact]
    public async Task An_upgrade_that_is_never_answered_fails_the_attempt_at_its_deadline()
    {
        using var silent = new SilentServer();
        var options = new TunnelOptions
        {
            Mode = TunnelMode.Source,
            ServiceUri = new Uri($"ws://127.0.0.1:{silent.Port}"),
            AccessToken = "token",
            ConnectAttemptTimeout = TimeSpan.FromMilliseconds(500),
        };

        var attempt = WebSocketConnector.ConnectAsync(options, null, new CertificateTrust(new(), false), NullLogger.Instance, CancellationToken.None);

        // The wait is only a hang guard: without a deadline the attempt never ends.
        var error = await Assert.ThrowsAsync<TunnelHandshakeException>(() => attempt.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal(0, error.StatusCode);
        Assert.Contains("did not complete the WebSocket handshake within 0.5 s", error.Message);
        Assert.False(error.IsRejection);
    }

    [Fact]
    public async Task A_reconnect_attempt_stuck_on_a_silent_front_end_times_out_and_the_next_one_reconnects()
    {
        await using var echo = new EchoServer();
        await using var harness = await TunnelHarness.StartAsync(new[] { "SSH1" });
        await using var relay = new FreezableRelay(harness.Service.Endpoint.Port);
        await harness.StartDestinationAsync($"SSH1=127.0.0.1:{echo.Port}");
        var source = await harness.StartAsync(harness.Options(TunnelMode.Source, "SSH1=0") with
        {
            ServiceUri = new Uri($"ws://127.0.0.1:{relay.Port}"),
            ClientToken = TunnelOptions.NewClientToken(),
            ConnectAttemptTimeout = TimeSpan.FromSeconds(1),
        });

        relay.FreezeNew = true;
        relay.CutCurrent();
        await Eventually.TrueAsync(() => relay.Accepted >= 2, "a reconnect attempt to reach the stuck front end", 15000);
        relay.FreezeNew = false;

        await Eventually.TrueAsync(() => source.Reconnects >= 1 && source.State == TunnelState.Connected, "the source to give up the stuck attempt and reconnect", 20000);
        using var socket = await TcpProbe.ConnectAsync(source.Ports["SSH1"]);
        Assert.Equal("through again", await TcpProbe.EchoAsync(socket, "through again"));
        await harness.Logs.WaitForLineAsync(l => l.Contains("did not complete the WebSocket handshake", StringComparison.Ordinal), "the log line");
    }
}
