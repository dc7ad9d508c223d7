using System.Net.WebSockets;
using AwsTunnel.Engine.Protocol;
using AwsTunnel.Engine.Transport;
using AwsTunnel.Engine.Tunnel;
using AwsTunnel.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;

namespace AwsTunnel.Tests.Engine;

/// <summary>
/// A payload a connection does not take stays its caller's: the full-queue policy resets
/// another connection and delivers the same payload again. (It used to be returned to the pool
/// on the first refusal, and the second delivery queued a buffer already back in the pool: the
/// write then failed, and the connection that received it, the interactive one beside the
/// non-readers, was reset; a rare failure of NonReaderTests with 100 non-readers.)
/// </summary>
public class DeliveryOwnershipTests
{
    [Fact]
    public async Task A_payload_refused_for_a_full_tunnel_is_still_whole_and_can_be_delivered_again()
    {
        var pool = new CountingPool();
        await using var link = new TunnelLink(WebSocket.CreateFromStream(new MemoryStream(), isServer: false, subProtocol: null, TimeSpan.Zero),
            NullLogger.Instance, pool: pool);
        var budget = new ReceiveBudget(100);
        var connection = new LocalConnection(new ConnectionKey("SVC", 1, 1), "SVC", true, link, budget,
            ConnectionLimits.From(TunnelHarness.FastSettings), (_, _) => { }, NullLogger.Instance);

        Assert.True(budget.TryReserve(90)); // other connections hold the rest
        var payload = PooledPayload.Rent(pool, 20);
        "twenty bytes of data"u8.CopyTo(payload.Memory.Span);

        Assert.Equal(DeliveryOutcome.TunnelFull, connection.Deliver(payload));
        Assert.Equal("twenty bytes of data"u8.ToArray(), payload.Memory.ToArray());
        Assert.Equal(1, pool.Outstanding);

        budget.Release(90); // the policy reset the one furthest behind
        Assert.Equal(DeliveryOutcome.Queued, connection.Deliver(payload));
        Assert.Equal(20, connection.QueuedBytes);

        // The connection owns it now: ending it returns the buffer, exactly once.
        connection.FailToAttach("test over");
        await connection.Closed.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(0, pool.Outstanding);
        Assert.Equal(0, budget.Used);
    }
}
