using AwsTunnel.Engine.Tunnel;
using AwsTunnel.Tests.Support;

namespace AwsTunnel.Tests.Engine;

/// <summary>Connections open, close and reset as the protocol says, at both ends.</summary>
public class ConnectionLifecycleTests
{
    [Fact]
    public async Task An_unreachable_destination_target_closes_the_clients_connection_after_the_retries()
    {
        int closedPort = TestPorts.FreeOutsideEphemeralRange();
        await using var harness = await TunnelHarness.StartAsync(new[] { "SSH1" });
        await harness.StartDestinationAsync($"SSH1=127.0.0.1:{closedPort}");
        var source = await harness.StartSourceAsync("SSH1=0");

        using var socket = await TcpProbe.ConnectAsync(source.Ports["SSH1"]);

        Assert.True(await TcpProbe.ClosesWithinAsync(socket, TimeSpan.FromSeconds(10)));
        await Eventually.TrueAsync(() => source.Connections().Count == 0, "the source to forget the connection");
        // Log records are written off the I/O loops, a moment after the event.
        await harness.Logs.WaitForLineAsync(l => l.Contains("after 3 attempts"), "the failed connect to be logged");
    }

    [Fact]
    public async Task The_source_keeps_listening_after_a_connection_ends()
    {
        await using var echo = new EchoServer();
        await using var harness = await TunnelHarness.StartAsync(new[] { "SSH1" });
        await harness.StartDestinationAsync($"SSH1=127.0.0.1:{echo.Port}");
        var source = await harness.StartSourceAsync("SSH1=0");

        for (int i = 0; i < 5; i++)
        {
            using var socket = await TcpProbe.ConnectAsync(source.Ports["SSH1"]);
            Assert.Equal($"round {i}", await TcpProbe.EchoAsync(socket, $"round {i}"));
        }

        Assert.Equal(5, echo.Accepted);
    }

    [Fact]
    public async Task Closing_the_target_side_closes_the_client_side_connection()
    {
        await using var echo = new EchoServer();
        await using var harness = await TunnelHarness.StartAsync(new[] { "SSH1" });
        var destination = await harness.StartDestinationAsync($"SSH1=127.0.0.1:{echo.Port}");
        var source = await harness.StartSourceAsync("SSH1=0");
        using var socket = await TcpProbe.ConnectAsync(source.Ports["SSH1"]);
        Assert.Equal("x", await TcpProbe.EchoAsync(socket, "x"));

        socket.Shutdown(System.Net.Sockets.SocketShutdown.Send);

        Assert.True(await TcpProbe.ClosesWithinAsync(socket, TimeSpan.FromSeconds(5)));
        await Eventually.TrueAsync(() => destination.Connections().Count == 0 && source.Connections().Count == 0, "both ends to forget the connection");
    }

    [Fact]
    public async Task When_the_destination_proxy_goes_away_the_service_resets_the_sources_connections()
    {
        await using var echo = new EchoServer();
        await using var harness = await TunnelHarness.StartAsync(new[] { "SSH1" });
        var destination = await harness.StartDestinationAsync($"SSH1=127.0.0.1:{echo.Port}");
        var source = await harness.StartSourceAsync("SSH1=0");
        using var socket = await TcpProbe.ConnectAsync(source.Ports["SSH1"]);
        Assert.Equal("x", await TcpProbe.EchoAsync(socket, "x"));

        await destination.StopAsync();

        Assert.True(await TcpProbe.ClosesWithinAsync(socket, TimeSpan.FromSeconds(5)));
        Assert.Equal(TunnelState.Connected, source.State);
    }

    [Fact]
    public async Task Connection_events_report_opened_and_closed_with_the_stream()
    {
        await using var echo = new EchoServer();
        await using var harness = await TunnelHarness.StartAsync(new[] { "SSH1" });
        await harness.StartDestinationAsync($"SSH1=127.0.0.1:{echo.Port}");
        var source = await harness.StartSourceAsync("SSH1=0");
        var events = new System.Collections.Concurrent.ConcurrentQueue<ConnectionEvent>();
        source.ConnectionChanged += (_, e) => events.Enqueue(e);

        using (var socket = await TcpProbe.ConnectAsync(source.Ports["SSH1"]))
        {
            Assert.Equal("x", await TcpProbe.EchoAsync(socket, "x"));
        }

        await Eventually.TrueAsync(() => events.Count == 2, "an Opened and a Closed event");
        Assert.Equal(new[] { "Opened", "Closed" }, events.Select(e => e.Kind));
        Assert.All(events, e => Assert.Equal("SSH1", e.Connection.ServiceId));
    }
}
