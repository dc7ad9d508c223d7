using AwsTunnel.Engine.Tunnel;
using AwsTunnel.Tests.Support;

namespace AwsTunnel.Tests.Engine;

/// <summary>Sessions survive WebSocket losses and service restarts, keeping their listeners.</summary>
public class ReconnectTests
{
    [Fact]
    public async Task After_the_WebSocket_is_dropped_the_session_reconnects_and_new_connections_work()
    {
        await using var echo = new EchoServer();
        await using var harness = await TunnelHarness.StartAsync(new[] { "SSH1" });
        var destination = await harness.StartDestinationAsync($"SSH1=127.0.0.1:{echo.Port}");
        var source = await harness.StartSourceAsync("SSH1=0");
        int port = source.Ports["SSH1"];
        using var before = await TcpProbe.ConnectAsync(port);
        Assert.Equal("before", await TcpProbe.EchoAsync(before, "before"));

        harness.Service.DropConnections(harness.Tunnel.TunnelId);

        Assert.True(await TcpProbe.ClosesWithinAsync(before, TimeSpan.FromSeconds(5)), "connections of the lost WebSocket close");
        await Eventually.TrueAsync(() => source.Reconnects >= 1 && destination.Reconnects >= 1 &&
            source.State == TunnelState.Connected && destination.State == TunnelState.Connected &&
            harness.Tunnel.SourceConnected && harness.Tunnel.DestinationConnected, "both ends to reconnect");
        using var after = await TcpProbe.ConnectAsync(port);
        Assert.Equal("after", await TcpProbe.EchoAsync(after, "after"));
        Assert.Equal(port, source.Ports["SSH1"]);
    }

    [Fact]
    public async Task After_the_service_restarts_the_session_reconnects_and_new_connections_work()
    {
        await using var echo = new EchoServer();
        await using var harness = await TunnelHarness.StartAsync(new[] { "SSH1" });
        var destination = await harness.StartDestinationAsync($"SSH1=127.0.0.1:{echo.Port}");
        var source = await harness.StartSourceAsync("SSH1=0");

        await harness.Service.RestartAsync(TimeSpan.FromMilliseconds(500));

        await Eventually.TrueAsync(() => source.Reconnects >= 1 && destination.Reconnects >= 1 &&
            source.State == TunnelState.Connected && destination.State == TunnelState.Connected &&
            harness.Tunnel.SourceConnected && harness.Tunnel.DestinationConnected, "both ends to reconnect", 15000);
        using var socket = await TcpProbe.ConnectAsync(source.Ports["SSH1"]);
        Assert.Equal("restarted", await TcpProbe.EchoAsync(socket, "restarted"));
    }
}
