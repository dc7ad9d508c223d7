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
        await harness.Logs.WaitForLineAsync(l => l.Contains("tcp.max_active_connections"), "the log line");
    }
}

/// <summary>Connection attempts still in progress count toward the limit, so they are bounded too.</summary>
public class PendingConnectionLimitTests
{
    [Fact]
    public async Task A_destination_refuses_connection_starts_beyond_the_limit_while_earlier_ones_are_still_connecting()
    {
        await using var service = new ScriptedService();
        int closedPort = TestPorts.FreeOutsideEphemeralRange();
        var logs = new LogCapture();
        await using var destination = new AwsTunnel.Engine.Tunnel.TunnelClient(new AwsTunnel.Engine.Tunnel.TunnelOptions
        {
            Mode = AwsTunnel.Engine.Protocol.TunnelMode.Destination,
            ServiceUri = service.Endpoint,
            AccessToken = "scripted-token",
            Services = AwsTunnel.Engine.Tunnel.ServiceMapping.ParseList($"SSH1=127.0.0.1:{closedPort}", "test"),
            Settings = TunnelHarness.FastSettings with { TcpMaxActiveConnections = 2, TcpConnectionRetryCount = 100, TcpConnectionRetryDelayMs = 200 },
            LoggerFactory = logs,
        });
        var starting = destination.StartAsync();
        await service.SendAsync(AwsTunnel.Engine.Protocol.Messages.ServiceIds(new[] { "SSH1" }));
        await starting;

        await service.SendAsync(
            AwsTunnel.Engine.Protocol.Messages.StreamStart(1, "SSH1", 1),
            AwsTunnel.Engine.Protocol.Messages.ConnectionStart(1, "SSH1", 2),
            AwsTunnel.Engine.Protocol.Messages.ConnectionStart(1, "SSH1", 3));

        var reset = await service.ReceiveUntilAsync(m => m.Type == AwsTunnel.Engine.Protocol.Message.Types.Type.ConnectionReset);
        Assert.Equal(3u, reset.ConnectionId);
        Assert.Equal(2, destination.Connections().Count);
        Assert.All(destination.Connections(), c => Assert.Equal(AwsTunnel.Engine.Tunnel.ConnectionState.Connecting, c.State));
        await logs.WaitForLineAsync(l => l.Contains("tcp.max_active_connections"), "the refusal to be logged", 30000);
    }
}
