using System.Collections.Concurrent;
using System.Net.Sockets;
using AwsTunnel.Engine.Protocol;
using AwsTunnel.Engine.Tunnel;
using AwsTunnel.Tests.Support;

namespace AwsTunnel.Tests.Engine;

/// <summary>
/// A session owns what it starts: after a stop nothing of it is left (sockets counted by file
/// descriptor, pooled buffers by a counting pool, tasks by the session), a stop that races a
/// reconnect never ends Connected, and event subscribers cannot break or stall the data path.
/// </summary>
public class SessionOwnershipTests
{
    [Fact]
    public async Task Stopping_with_clients_that_do_not_read_leaves_no_socket_task_or_pooled_buffer()
    {
        await using var flood = new FloodServer();
        await using var harness = await TunnelHarness.StartAsync(new[] { "FLOOD" });
        var destinationPool = new CountingPool();
        var sourcePool = new CountingPool();
        var destination = await harness.StartAsync(harness.Options(TunnelMode.Destination, $"FLOOD=127.0.0.1:{flood.Port}") with { BufferPool = destinationPool });
        var source = await harness.StartAsync(harness.Options(TunnelMode.Source, "FLOOD=0") with { BufferPool = sourcePool });
        int port = source.Ports["FLOOD"];

        var clients = new List<Socket>();
        try
        {
            for (int i = 0; i < 10; i++)
            {
                var client = new Socket(SocketType.Stream, ProtocolType.Tcp) { ReceiveBufferSize = 4096 };
                clients.Add(client);
                await client.ConnectAsync("127.0.0.1", port);
            }

            await Eventually.TrueAsync(() => source.ReceiveBudget.Used > 0, "data to wait for the clients that do not read");
            Assert.True(OpenSockets.Held().Count(s => s.Local == port) > 1, "the source holds its listener and accepted sockets");

            await source.StopAsync();
            await destination.StopAsync();

            Assert.DoesNotContain(OpenSockets.Held(), s => s.Local == port);          // the listener and every accepted socket
            Assert.DoesNotContain(OpenSockets.Held(), s => s.Remote == flood.Port);   // the destination's sockets to the target
            Assert.DoesNotContain(OpenSockets.Held(), s => s.Remote == harness.Service.Endpoint.Port); // both WebSockets
            Assert.Equal(0, sourcePool.Outstanding);
            Assert.Equal(0, destinationPool.Outstanding);
            Assert.Equal(0, source.RunningTasks);
            Assert.Equal(0, destination.RunningTasks);
            Assert.Equal(0, source.LiveConnections);
            Assert.Equal(TunnelState.Ended, source.State);
        }
        finally
        {
            clients.ForEach(c => c.Dispose());
        }
    }

    [Fact]
    public async Task A_stop_racing_a_reconnect_500_times_never_leaves_a_session_connected_after_it_ended()
    {
        await using var harness = await TunnelHarness.StartAsync(new[] { "SSH1" });
        var settings = TunnelHarness.FastSettings with { WebSocketRetryDelayMs = 1 };
        string clientToken = TunnelOptions.NewClientToken();
        var random = new Random(11);
        for (int i = 0; i < 500; i++)
        {
            var states = new ConcurrentQueue<TunnelState>();
            var options = harness.Options(TunnelMode.Source, "SSH1=0", settings) with { ClientToken = clientToken };
            await using var source = new TunnelClient(options);
            source.StateChanged += (_, state) => states.Enqueue(state);
            await source.StartAsync();

            harness.Tunnel.DropConnections();
            if (random.Next(4) > 0)
            {
                await Task.Delay(random.Next(0, 6));
            }

            await source.StopAsync();

            var seen = states.ToList();
            Assert.Equal(TunnelState.Ended, source.State);
            Assert.Equal(TunnelState.Ended, seen[^1]);
            Assert.Equal(1, seen.Count(s => s == TunnelState.Ended));
            Assert.Equal(0, source.RunningTasks);
            // The runtime closes a socket's descriptor once its aborted operations have unwound, a
            // moment after the dispose: so this waits briefly, where a leak would wait forever.
            await Eventually.TrueAsync(() => !OpenSockets.Held().Any(s => s.Remote == harness.Service.Endpoint.Port),
                $"iteration {i}: the session's WebSocket to be closed (states {string.Join(" ", seen)})", 5000);
        }
    }

    [Fact]
    public async Task A_throwing_subscriber_is_logged_and_connections_still_open_relay_and_close()
    {
        await using var echo = new EchoServer();
        await using var harness = await TunnelHarness.StartAsync(new[] { "SSH1" });
        await harness.StartDestinationAsync($"SSH1=127.0.0.1:{echo.Port}");
        var source = new TunnelClient(harness.Options(TunnelMode.Source, "SSH1=0"));
        source.ConnectionChanged += (_, _) => throw new InvalidOperationException("subscriber bug");
        source.StateChanged += (_, _) => throw new InvalidOperationException("subscriber bug");
        await using (source)
        {
            await source.StartAsync();
            int port = source.Ports["SSH1"];
            for (int i = 0; i < 3; i++)
            {
                using var client = await TcpProbe.ConnectAsync(port);
                Assert.Equal($"hello {i}", await TcpProbe.EchoAsync(client, $"hello {i}"));
            }

            // Each connection closed, and its socket with it, although every event about it threw.
            await Eventually.TrueAsync(() => source.LiveConnections == 0, "the connections to be released");
            Assert.Equal(1, OpenSockets.Held().Count(s => s.Local == port)); // the listener only
            await harness.Logs.WaitForLineAsync(l => l.Contains("A subscriber to a session event threw InvalidOperationException: subscriber bug"),
                "the subscriber's failure to be logged");
        }
    }

    [Fact]
    public async Task A_subscriber_that_blocks_does_not_stall_the_data_path()
    {
        await using var echo = new EchoServer();
        await using var harness = await TunnelHarness.StartAsync(new[] { "SSH1" });
        await harness.StartDestinationAsync($"SSH1=127.0.0.1:{echo.Port}");
        using var release = new ManualResetEventSlim();
        var source = new TunnelClient(harness.Options(TunnelMode.Source, "SSH1=0"));
        source.ConnectionChanged += (_, _) => release.Wait(TimeSpan.FromSeconds(60));
        await using (source)
        {
            await source.StartAsync();
            for (int i = 0; i < 3; i++)
            {
                using var client = await TcpProbe.ConnectAsync(source.Ports["SSH1"]);
                Assert.Equal($"hello {i}", await TcpProbe.EchoAsync(client, $"hello {i}"));
            }

            release.Set();
        }
    }
}
