using AwsTunnel.Tests.Support;

namespace AwsTunnel.Tests.Engine;

/// <summary>tcp.max_active_connections bounds connections per service.</summary>
public class ConnectionLimitTests
{
    [Fact]
    public async Task A_connection_over_the_per_service_limit_is_refused_and_the_others_keep_working()
    {
        await using var echo = new EchoServer();
        await using var harness = await TunnelHarness.StartAsync(new[] { "SSH1" });
        var limited = TunnelHarness.FastSettings with { TcpMaxActiveConnections = 2 };
        await harness.StartDestinationAsync($"SSH1=127.0.0.1:{echo.Port}");
        var source = await harness.StartSourceAsync("SSH1=0", limited);
        int port = source.Ports["SSH1"];

        using var first = await TcpProbe.ConnectAsync(port);
        using var second = await TcpProbe.ConnectAsync(port);
        Assert.Equal("1", await TcpProbe.EchoAsync(first, "1"));
        Assert.Equal("2", await TcpProbe.EchoAsync(second, "2"));
        using var third = await TcpProbe.ConnectAsync(port);

        Assert.True(await TcpProbe.ClosesWithinAsync(third, TimeSpan.FromSeconds(5)));
        Assert.Equal("still 1", await TcpProbe.EchoAsync(first, "still 1"));
        Assert.Contains(harness.Logs.Lines, l => l.Contains("tcp.max_active_connections"));
    }
}
