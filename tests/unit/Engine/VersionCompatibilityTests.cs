using AwsTunnel.Engine.Protocol;
using AwsTunnel.Engine.Tunnel;
using AwsTunnel.Tests.Support;

namespace AwsTunnel.Tests.Engine;

/// <summary>V3 interoperates with V2 and V1 peers as the protocol guide says.</summary>
public class VersionCompatibilityTests
{
    [Fact]
    public async Task A_V3_source_carries_several_simultaneous_connections_on_one_service()
    {
        await using var echo = new EchoServer();
        await using var harness = await TunnelHarness.StartAsync(new[] { "SSH1" });
        var destination = await harness.StartDestinationAsync($"SSH1=127.0.0.1:{echo.Port}");
        var source = await harness.StartSourceAsync("SSH1=0");

        var sockets = new[] { await TcpProbe.ConnectAsync(source.Ports["SSH1"]), await TcpProbe.ConnectAsync(source.Ports["SSH1"]), await TcpProbe.ConnectAsync(source.Ports["SSH1"]) };
        for (int i = 0; i < sockets.Length; i++)
        {
            Assert.Equal($"connection {i}", await TcpProbe.EchoAsync(sockets[i], $"connection {i}"));
        }

        Assert.Equal(ProtocolVersion.V3, source.Protocol);
        var live = source.Connections();
        Assert.Equal(3, live.Count);
        Assert.Single(live.Select(c => c.StreamId).Distinct());
        Assert.Equal(new uint[] { 1, 2, 3 }, live.Select(c => c.ConnectionId).Order());
        Assert.Equal(3, destination.Connections().Count);
        foreach (var socket in sockets)
        {
            socket.Dispose();
        }
    }

    [Fact]
    public async Task A_V3_source_told_the_destination_is_V2_uses_no_connection_ids_with_a_V2_destination()
    {
        await using var echo = new EchoServer();
        await using var harness = await TunnelHarness.StartAsync(new[] { "SSH1" });
        var v2Only = TunnelHarness.FastSettings with { WebSocketSubprotocol = Subprotocols.V2 };
        var destination = await harness.StartDestinationAsync($"SSH1=127.0.0.1:{echo.Port}", v2Only);
        var source = await harness.StartAsync(harness.Options(TunnelMode.Source, "SSH1=0") with { DestinationClientType = ProtocolVersion.V2 });

        using var first = await TcpProbe.ConnectAsync(source.Ports["SSH1"]);
        Assert.Equal("over V2", await TcpProbe.EchoAsync(first, "over V2"));

        Assert.Equal(ProtocolVersion.V2, destination.Protocol);
        Assert.Equal(ProtocolVersion.V3, source.Protocol);
        Assert.Equal(1u, Assert.Single(destination.Connections()).ConnectionId);
    }

    [Fact]
    public async Task A_source_for_a_V2_destination_refuses_a_second_simultaneous_connection_and_accepts_the_next_after_the_first_closes()
    {
        await using var echo = new EchoServer();
        await using var harness = await TunnelHarness.StartAsync(new[] { "SSH1" });
        await harness.StartDestinationAsync($"SSH1=127.0.0.1:{echo.Port}");
        var source = await harness.StartAsync(harness.Options(TunnelMode.Source, "SSH1=0") with { DestinationClientType = ProtocolVersion.V2 });
        int port = source.Ports["SSH1"];

        var first = await TcpProbe.ConnectAsync(port);
        Assert.Equal("one", await TcpProbe.EchoAsync(first, "one"));
        using (var second = await TcpProbe.ConnectAsync(port))
        {
            Assert.True(await TcpProbe.ClosesWithinAsync(second, TimeSpan.FromSeconds(5)), "the second connection should be refused");
        }

        int firstStream = Assert.Single(source.Connections()).StreamId;
        first.Dispose();
        await Eventually.TrueAsync(() => source.Connections().Count == 0, "the first connection to be gone");

        using var third = await TcpProbe.ConnectAsync(port);
        Assert.Equal("three", await TcpProbe.EchoAsync(third, "three"));
        Assert.NotEqual(firstStream, Assert.Single(source.Connections()).StreamId);
    }

    [Fact]
    public async Task A_tunnel_without_services_runs_as_a_single_V1_style_stream()
    {
        await using var echo = new EchoServer();
        await using var harness = await TunnelHarness.StartAsync();
        await harness.StartDestinationAsync($"127.0.0.1:{echo.Port}");
        var source = await harness.StartSourceAsync("0");

        using var socket = await TcpProbe.ConnectAsync(source.Ports[""]);
        Assert.Equal("single stream", await TcpProbe.EchoAsync(socket, "single stream"));
        Assert.Empty(source.ServiceIds);
    }

    [Fact]
    public async Task Proxies_negotiate_V1_with_a_service_that_only_speaks_V1()
    {
        await using var echo = new EchoServer();
        await using var harness = await TunnelHarness.StartAsync(maxProtocol: ProtocolVersion.V1);
        var destination = await harness.StartDestinationAsync($"127.0.0.1:{echo.Port}");
        var source = await harness.StartSourceAsync("0");

        using var socket = await TcpProbe.ConnectAsync(source.Ports[""]);
        Assert.Equal("v1", await TcpProbe.EchoAsync(socket, "v1"));
        Assert.Equal(ProtocolVersion.V1, source.Protocol);
        Assert.Equal(ProtocolVersion.V1, destination.Protocol);
    }
}
