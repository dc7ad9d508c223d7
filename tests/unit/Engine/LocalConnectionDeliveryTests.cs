using System.Net.Sockets;
using System.Net.WebSockets;
using AwsTunnel.Engine.Protocol;
using AwsTunnel.Engine.Transport;
using AwsTunnel.Engine.Tunnel;
using AwsTunnel.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;

namespace AwsTunnel.Tests.Engine;

/// <summary>
/// Payloads from the tunnel go to the local socket at once when it takes them, and through the
/// connection's queue when it does not: either way they arrive whole, in order, and every
/// buffer goes back to the pool exactly once.
/// </summary>
public class LocalConnectionDeliveryTests
{
    private static readonly TimeSpan HangGuard = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Payloads_delivered_faster_than_the_client_reads_arrive_whole_and_in_order()
    {
        await using var fixture = await Fixture.StartAsync(smallBuffers: true);
        const int Payloads = 64;
        const int Size = 64 * 1024;

        long offset = 0;
        for (int i = 0; i < Payloads; i++)
        {
            var payload = PooledPayload.Rent(fixture.Pool, Size);
            Pattern.Fill(payload.Memory.Span, offset);
            offset += Size;
            Assert.Equal(DeliveryOutcome.Queued, fixture.Connection.Deliver(payload));
        }

        // The client has not read yet: the first payloads went to the socket, the rest waits in the queue.
        Assert.InRange(fixture.Connection.QueuedBytes, 1, (long)Payloads * Size - 1);
        var reading = ReadAllAsync(fixture.Client);
        fixture.Connection.CloseFromTunnel("test done");
        var (received, intact) = await reading.WaitAsync(HangGuard);
        await fixture.Connection.Closed.WaitAsync(HangGuard);

        Assert.Equal((long)Payloads * Size, received);
        Assert.True(intact, "the bytes arrived out of order or changed");
        Assert.Equal(0, fixture.Connection.QueuedBytes);
        Assert.Equal(0, fixture.Budget.Used);
        Assert.Equal(0, fixture.Pool.Outstanding);
    }

    [Fact]
    public async Task A_client_that_keeps_up_gets_each_payload_without_a_queue()
    {
        await using var fixture = await Fixture.StartAsync(smallBuffers: false);
        var reading = ReadAllAsync(fixture.Client);

        var payload = PooledPayload.Rent(fixture.Pool, 1000);
        Pattern.Fill(payload.Memory.Span, 0);
        Assert.Equal(DeliveryOutcome.Queued, fixture.Connection.Deliver(payload));

        // Written before Deliver returned: nothing waits in the queue, the buffer is back.
        Assert.Equal(0, fixture.Connection.QueuedBytes);
        Assert.Equal(0, fixture.Pool.Outstanding);
        fixture.Connection.CloseFromTunnel("test done");
        var (received, intact) = await reading.WaitAsync(HangGuard);
        Assert.Equal(1000, received);
        Assert.True(intact);
    }

    [Fact]
    public async Task A_payload_refused_for_a_full_tunnel_budget_stays_with_the_caller()
    {
        await using var fixture = await Fixture.StartAsync(smallBuffers: false, budgetBytes: 100);
        using var payload = PooledPayload.Rent(fixture.Pool, 1000);

        Assert.Equal(DeliveryOutcome.TunnelFull, fixture.Connection.Deliver(payload));

        // Still usable: the caller may try again once another connection was reset, then disposes it.
        Assert.Equal(1000, payload.Memory.Length);
        Assert.Equal(1, fixture.Pool.Outstanding);
    }

    /// <summary>Reads until the end (FIN, or the reset that follows everything when the tunnel ends the connection), checking the pattern.</summary>
    private static async Task<(long Received, bool Intact)> ReadAllAsync(Socket client)
    {
        var buffer = new byte[16 * 1024];
        long received = 0;
        bool intact = true;
        while (true)
        {
            int n;
            try
            {
                n = await client.ReceiveAsync(buffer, SocketFlags.None);
            }
            catch (SocketException ex) when (ex.SocketErrorCode == SocketError.ConnectionReset)
            {
                n = 0;
            }

            if (n == 0)
            {
                return (received, intact);
            }

            intact &= Pattern.Matches(buffer.AsSpan(0, n), received);
            received += n;
        }
    }

    private static class Pattern
    {
        public static byte At(long offset) => (byte)(offset * 7 + (offset >> 11));

        public static void Fill(Span<byte> span, long offset)
        {
            for (int i = 0; i < span.Length; i++)
            {
                span[i] = At(offset + i);
            }
        }

        public static bool Matches(ReadOnlySpan<byte> span, long offset)
        {
            for (int i = 0; i < span.Length; i++)
            {
                if (span[i] != At(offset + i))
                {
                    return false;
                }
            }

            return true;
        }
    }

    /// <summary>A connection attached to one end of a loopback pair (the local client holds the other), on a link that never runs.</summary>
    private sealed class Fixture : IAsyncDisposable
    {
        private readonly WebSocket _linkSocket;
        private readonly WebSocket _serviceSocket;
        private readonly TunnelLink _link;

        private Fixture(LocalConnection connection, Socket client, CountingPool pool, ReceiveBudget budget, TunnelLink link, WebSocket linkSocket, WebSocket serviceSocket)
        {
            Connection = connection;
            Client = client;
            Pool = pool;
            Budget = budget;
            _link = link;
            _linkSocket = linkSocket;
            _serviceSocket = serviceSocket;
        }

        public LocalConnection Connection { get; }
        public Socket Client { get; }
        public CountingPool Pool { get; }
        public ReceiveBudget Budget { get; }

        /// <param name="smallBuffers">Kernel buffers of 64 KiB, so that a few payloads fill them.</param>
        public static async Task<Fixture> StartAsync(bool smallBuffers, long budgetBytes = 64L << 20)
        {
            var (connectionSide, client) = await LoopbackPairs.SocketPairAsync();
            var (linkSocket, serviceSocket) = await LoopbackPairs.WebSocketPairAsync();
            if (smallBuffers)
            {
                connectionSide.SendBufferSize = 64 * 1024;
                client.ReceiveBufferSize = 64 * 1024;
            }

            var pool = new CountingPool();
            var link = new TunnelLink(linkSocket, NullLogger.Instance, pool: pool);
            var budget = new ReceiveBudget(budgetBytes);
            var limits = new ConnectionLimits(64 * 1024, 64L << 20, TimeSpan.FromMinutes(5));
            var connection = new LocalConnection(
                new ConnectionKey("SSH1", 1, 1), "SSH1", true, link, budget, limits, (_, _) => { }, NullLogger.Instance);
            Assert.NotNull(connection.Attach(connectionSide));
            return new Fixture(connection, client, pool, budget, link, linkSocket, serviceSocket);
        }

        public async ValueTask DisposeAsync()
        {
            Connection.Abort();
            Client.Dispose();
            await _link.DisposeAsync();
            _serviceSocket.Dispose();
            _linkSocket.Dispose();
        }
    }
}
