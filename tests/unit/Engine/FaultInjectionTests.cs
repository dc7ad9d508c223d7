using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using AwsTunnel.Engine.Tunnel;
using AwsTunnel.Tests.Support;

namespace AwsTunnel.Tests.Engine;

/// <summary>
/// Faults around a live tunnel: no byte is ever corrupted, and every connection either
/// completes or is closed at both ends.
/// </summary>
public class FaultInjectionTests
{
    private static readonly AwsTunnel.Engine.Settings.ProxySettings Quick =
        TunnelHarness.FastSettings with { WebSocketRetryDelayMs = 50 };

    [Fact]
    public async Task Fifty_WebSocket_drops_in_a_row_under_traffic_never_corrupt_a_byte()
    {
        await using var echo = new EchoServer();
        await using var harness = await TunnelHarness.StartAsync(new[] { "SSH1" });
        var destination = await harness.StartDestinationAsync($"SSH1=127.0.0.1:{echo.Port}", Quick);
        var source = await harness.StartSourceAsync("SSH1=0", Quick);
        int port = source.Ports["SSH1"];
        using var stopTraffic = new CancellationTokenSource();
        var traffic = Enumerable.Range(0, 3).Select(i => TrafficAsync(port, i, stopTraffic.Token)).ToArray();

        for (int drop = 0; drop < 50; drop++)
        {
            int before = source.Reconnects;
            harness.Service.DropConnections(harness.Tunnel.TunnelId);
            await Eventually.TrueAsync(() => source.Reconnects > before && source.State == TunnelState.Connected &&
                destination.State == TunnelState.Connected && harness.Tunnel.SourceConnected && harness.Tunnel.DestinationConnected,
                $"reconnection after drop {drop + 1}");
        }

        stopTraffic.Cancel();
        var outcomes = (await Task.WhenAll(traffic)).SelectMany(o => o).ToList();
        Assert.All(outcomes, o => Assert.True(o.Intact, "echoed bytes must be a prefix of what was sent"));
        Assert.Contains(outcomes, o => o.Completed);
        using var after = await TcpProbe.ConnectAsync(port);
        Assert.Equal("after fifty drops", await TcpProbe.EchoAsync(after, "after fifty drops"));
        Assert.Equal(50, source.Reconnects);
    }

    [Fact]
    public async Task A_target_that_refuses_at_first_and_then_accepts_is_reached_by_the_retries()
    {
        int port = TestPorts.FreeOutsideEphemeralRange();
        await using var harness = await TunnelHarness.StartAsync(new[] { "SSH1" });
        var patient = TunnelHarness.FastSettings with { TcpConnectionRetryCount = 20, TcpConnectionRetryDelayMs = 100 };
        await harness.StartDestinationAsync($"SSH1=127.0.0.1:{port}", patient);
        var source = await harness.StartSourceAsync("SSH1=0");
        using var client = await TcpProbe.ConnectAsync(source.Ports["SSH1"]);
        var sent = client.SendAsync("early bytes"u8.ToArray(), SocketFlags.None);

        await Task.Delay(400);
        await using var late = new LateEchoServer(port);

        await sent;
        var buffer = new byte[11];
        int filled = 0;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (filled < buffer.Length)
        {
            filled += await client.ReceiveAsync(buffer.AsMemory(filled), SocketFlags.None, timeout.Token);
        }

        Assert.Equal("early bytes", System.Text.Encoding.UTF8.GetString(buffer));
    }

    [Fact]
    public async Task Closing_the_tunnel_during_a_transfer_ends_both_sessions_and_closes_the_client()
    {
        await using var echo = new EchoServer();
        await using var harness = await TunnelHarness.StartAsync(new[] { "SSH1" });

        // Room for bulk: a reader starved on a loaded machine must not be reset by the slow-reader policy before the close.
        var destination = await harness.StartDestinationAsync($"SSH1=127.0.0.1:{echo.Port}", TunnelHarness.RoomForBulkSettings);
        var source = await harness.StartSourceAsync("SSH1=0", TunnelHarness.RoomForBulkSettings);
        using var client = await TcpProbe.ConnectAsync(source.Ports["SSH1"]);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));

        // The client sends until the tunnel ends and counts what comes back (a monotonic measure of
        // progress, whatever happens to the proxy's connection objects meanwhile).
        long echoed = 0;
        var sending = Task.Run(async () =>
        {
            var chunk = new byte[64 * 1024];
            try
            {
                while (true)
                {
                    await client.SendAsync(chunk, SocketFlags.None, cts.Token);
                }
            }
            catch (Exception ex) when (ex is SocketException or OperationCanceledException or ObjectDisposedException)
            {
            }
        });
        var receiving = Task.Run(async () =>
        {
            var buffer = new byte[64 * 1024];
            int read;
            while ((read = await client.ReceiveAsync(buffer, SocketFlags.None, cts.Token)) > 0)
            {
                Interlocked.Add(ref echoed, read);
            }
        });
        await Eventually.TrueAsync(() => Interlocked.Read(ref echoed) > 1024 * 1024, "the transfer to be under way");

        await harness.Service.CloseTunnelAsync(harness.Tunnel.TunnelId);

        var ends = await Task.WhenAll(source.Completion, destination.Completion).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.All(ends, e => Assert.Equal(TunnelEndReason.TunnelClosed, e.Reason));
        var outcome = await Record.ExceptionAsync(() => receiving.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.True(outcome is null or SocketException, $"the client's transfer ends by a close or reset, not a hang: {outcome}");
        cts.Cancel();
        await sending.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task Stopping_a_session_with_open_connections_resets_them_and_releases_everything_within_two_seconds()
    {
        await using var echo = new EchoServer();
        await using var harness = await TunnelHarness.StartAsync(new[] { "SSH1" });
        var destination = await harness.StartDestinationAsync($"SSH1=127.0.0.1:{echo.Port}");
        var source = await harness.StartSourceAsync("SSH1=0");
        int port = source.Ports["SSH1"];
        var clients = new List<Socket>();
        for (int i = 0; i < 5; i++)
        {
            var c = await TcpProbe.ConnectAsync(port);
            Assert.Equal("open", await TcpProbe.EchoAsync(c, "open"));
            clients.Add(c);
        }

        var clock = Stopwatch.StartNew();
        await source.StopAsync();
        clock.Stop();

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"stop took {clock.Elapsed}");
        foreach (var c in clients)
        {
            Assert.True(await TcpProbe.ClosesWithinAsync(c, TimeSpan.FromSeconds(2)));
            c.Dispose();
        }

        await Eventually.TrueAsync(() => destination.Connections().Count == 0, "the destination to close its target connections on the resets");
        using var rebind = new TcpListener(IPAddress.Loopback, port);
        rebind.Start();
    }

    private sealed record Outcome(bool Completed, bool Intact);

    /// <summary>Opens connection after connection, echoing random bytes; records each outcome.</summary>
    private static async Task<List<Outcome>> TrafficAsync(int port, int seed, CancellationToken stop)
    {
        var outcomes = new List<Outcome>();
        var random = new Random(seed);
        while (!stop.IsCancellationRequested)
        {
            var sent = new byte[random.Next(1, 200_000)];
            random.NextBytes(sent);
            var received = new MemoryStream();
            bool completed = false;
            try
            {
                using var socket = await TcpProbe.ConnectAsync(port);
                using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                var send = socket.SendAsync(sent, SocketFlags.None, bound.Token).AsTask();
                var buffer = new byte[65536];
                while (received.Length < sent.Length)
                {
                    int read = await socket.ReceiveAsync(buffer, SocketFlags.None, bound.Token);
                    if (read == 0)
                    {
                        break;
                    }

                    received.Write(buffer, 0, read);
                }

                completed = received.Length == sent.Length;
                await send.WaitAsync(TimeSpan.FromSeconds(1)).ContinueWith(_ => { });
            }
            catch (Exception ex) when (ex is SocketException or OperationCanceledException or TimeoutException)
            {
                // Reset by a drop: allowed, as long as nothing received was wrong.
            }

            var got = received.ToArray();
            outcomes.Add(new Outcome(completed, got.AsSpan().SequenceEqual(sent.AsSpan(0, got.Length))));
        }

        return outcomes;
    }

    /// <summary>An echo server that starts listening on a given port only when constructed.</summary>
    private sealed class LateEchoServer : IAsyncDisposable
    {
        private readonly TcpListener _listener;

        public LateEchoServer(int port)
        {
            _listener = new TcpListener(IPAddress.Loopback, port);
            _listener.Start();
            _ = Task.Run(async () =>
            {
                try
                {
                    using var socket = await _listener.AcceptSocketAsync();
                    var buffer = new byte[1024];
                    int read;
                    while ((read = await socket.ReceiveAsync(buffer, SocketFlags.None)) > 0)
                    {
                        await socket.SendAsync(buffer.AsMemory(0, read), SocketFlags.None);
                    }
                }
                catch (Exception)
                {
                    // The test ended.
                }
            });
        }

        public ValueTask DisposeAsync()
        {
            _listener.Stop();
            return ValueTask.CompletedTask;
        }
    }
}
