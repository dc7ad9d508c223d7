using System.Net.Sockets;
using AwsTunnel.Engine.Protocol;
using AwsTunnel.Engine.Tunnel;
using AwsTunnel.Tests.Support;

namespace AwsTunnel.Tests.Engine;

/// <summary>
/// Local clients that never read, with their targets sending as fast as they can, never hold
/// up another connection of the tunnel, and the memory the proxy holds for them stays within
/// its settings. Timing is not asserted here (bench B8 measures the longest stall); the
/// interactive echo only has a hang guard.
/// </summary>
public class NonReaderTests
{
    /// <summary>Small limits, so the policy acts within a moment: 1 MiB per connection, 8 MiB per session.</summary>
    private static readonly AwsTunnel.Engine.Settings.ProxySettings Tight = TunnelHarness.FastSettings with
    {
        ConnectionBufferLimitBytes = 1024 * 1024,
        TunnelBufferLimitBytes = 8 * 1024 * 1024,
        TcpMaxActiveConnections = 400,
    };

    [Theory]
    [InlineData(1)]
    [InlineData(20)]
    [InlineData(100)]
    public async Task Clients_that_never_read_do_not_hold_up_an_echo_on_another_service_and_memory_stays_bounded(int nonReaders)
    {
        await using var echo = new EchoServer();
        await using var flood = new FloodServer();
        await using var harness = await TunnelHarness.StartAsync(new[] { "FLOOD", "ECHO" });
        await harness.StartDestinationAsync($"FLOOD=127.0.0.1:{flood.Port},ECHO=127.0.0.1:{echo.Port}", Tight);
        var pool = new CountingPool();
        var source = await harness.StartAsync(harness.Options(TunnelMode.Source, "FLOOD=0,ECHO=0", Tight) with { BufferPool = pool });

        using var interactive = await TcpProbe.ConnectAsync(source.Ports["ECHO"]);
        Assert.Equal("hello", await TcpProbe.EchoAsync(interactive, "hello"));

        var stuck = new List<Socket>();
        try
        {
            for (int i = 0; i < nonReaders; i++)
            {
                var client = await TcpProbe.ConnectAsync(source.Ports["FLOOD"]);
                client.ReceiveBufferSize = 4096;
                stuck.Add(client);
            }

            // The echo keeps answering while every non-reader's data piles up and is dealt with.
            int round = 0;
            while (flood.Ended < nonReaders || round < 50)
            {
                string text = $"round {round++} ".PadRight(64, '.');
                Assert.Equal(text, await TcpProbe.EchoAsync(interactive, text));
                Assert.True(round < 100_000, "the non-readers were never reset");
            }

            await Eventually.TrueAsync(() => !source.Connections().Any(c => c.ServiceId == "FLOOD"), "every non-reader to be reset", 30000);
            Assert.Equal("still here", await TcpProbe.EchoAsync(interactive, "still here"));

            // Memory: what the source held for its local clients never passed the session's bound,
            // and the pooled buffers out at any time stayed within that bound plus the link's own
            // (16 send turns, a batch, the frames being decoded or written: a few MiB).
            Assert.True(source.ReceiveBudget.HighWater <= Tight.TunnelBufferLimitBytes,
                $"held {source.ReceiveBudget.HighWater} bytes for local clients, over the {Tight.TunnelBufferLimitBytes} bound");
            Assert.True(pool.MaxOutstandingBytes <= Tight.TunnelBufferLimitBytes + 4 * 1024 * 1024,
                $"{pool.MaxOutstandingBytes} pooled bytes were out at once");
            await harness.Logs.WaitForLineAsync(l => l.Contains("FLOOD/") && (l.Contains("bytes behind") || l.Contains("furthest behind")), "the log line");
        }
        finally
        {
            stuck.ForEach(s => s.Dispose());
        }

        await source.StopAsync();
        Assert.Equal(0, pool.Outstanding);
    }

    [Fact]
    public async Task Three_hundred_connections_closed_by_the_tunnel_while_their_clients_do_not_read_are_all_released()
    {
        const int Clients = 300;
        var settings = TunnelHarness.FastSettings with
        {
            ConnectionBufferLimitBytes = 4 * 1024 * 1024,
            TunnelBufferLimitBytes = 1024 * 1024 * 1024,
            ConnectionStallTimeoutMs = 1000,
            TcpMaxActiveConnections = 400,
        };

        // 3 MiB each: more than the kernel takes into the buffers of a loopback connection whose
        // client reads nothing (about 2.3 MB, the send buffer autotuned to 4 MiB), so data waits in the proxy.
        await using var flood = new FloodServer(bytesPerConnection: 3 * 1024 * 1024);
        await using var harness = await TunnelHarness.StartAsync(new[] { "FLOOD" });
        await harness.StartDestinationAsync($"FLOOD=127.0.0.1:{flood.Port}", settings);
        var pool = new CountingPool();
        var source = await harness.StartAsync(harness.Options(TunnelMode.Source, "FLOOD=0", settings) with { BufferPool = pool });

        var clients = new List<Socket>();
        try
        {
            for (int i = 0; i < Clients; i++)
            {
                // A small receive buffer set before connecting keeps the advertised window small.
                var client = new Socket(SocketType.Stream, ProtocolType.Tcp) { ReceiveBufferSize = 2048 };
                clients.Add(client);
                await client.ConnectAsync("127.0.0.1", source.Ports["FLOOD"]);
            }

            // Every target sends its 3 MiB and closes; the tunnel then ends each connection while
            // its client still reads nothing. Within the stall timeout of their last progress, all are gone.
            await Eventually.TrueAsync(() => flood.Ended == Clients, "every target to finish sending", 60000);
            await Eventually.TrueAsync(() => source.LiveConnections == 0, "every connection to be released", 30000);
            await harness.Logs.WaitForLineAsync(l => l.Contains("cut: the local peer stopped reading"), "the log line");
            Assert.Equal(0, source.ReceiveBudget.Used);
        }
        finally
        {
            clients.ForEach(s => s.Dispose());
        }

        await source.StopAsync();
        Assert.Equal(0, pool.Outstanding);
    }
}
