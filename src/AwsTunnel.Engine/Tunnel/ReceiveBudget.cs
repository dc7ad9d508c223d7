namespace AwsTunnel.Engine.Tunnel;

/// <summary>
/// The bytes one tunnel side holds for its local connections: received from the tunnel, not
/// yet taken by their sockets (<c>awstunnel.tunnel_buffer_limit_bytes</c>). Each connection's
/// queue has its own limit as well; this one bounds the sum however many connections there
/// are. Reservations never wait: when the budget is used up, the side resets the connection
/// furthest behind (see <see cref="TunnelSide"/>).
/// </summary>
internal sealed class ReceiveBudget
{
    private long _used;
    private long _highWater;

    public ReceiveBudget(long limit) => Limit = limit;

    /// <summary>The most bytes that may be held.</summary>
    public long Limit { get; }

    /// <summary>Bytes held now.</summary>
    public long Used => Interlocked.Read(ref _used);

    /// <summary>The most bytes held at any time (tests check the bound).</summary>
    public long HighWater => Interlocked.Read(ref _highWater);

    /// <summary>Takes <paramref name="bytes"/> from the budget; false, taking nothing, when they do not fit.</summary>
    public bool TryReserve(int bytes)
    {
        long used;
        do
        {
            used = Interlocked.Read(ref _used);
            if (used + bytes > Limit)
            {
                return false;
            }
        }
        while (Interlocked.CompareExchange(ref _used, used + bytes, used) != used);

        long now = used + bytes;
        long high;
        while (now > (high = Interlocked.Read(ref _highWater)) && Interlocked.CompareExchange(ref _highWater, now, high) != high)
        {
        }

        return true;
    }

    /// <summary>Gives back bytes once their socket took them, or they were dropped.</summary>
    public void Release(int bytes) => Interlocked.Add(ref _used, -bytes);
}
