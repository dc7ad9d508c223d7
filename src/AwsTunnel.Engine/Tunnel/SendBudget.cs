namespace AwsTunnel.Engine.Tunnel;

/// <summary>
/// The DATA frames one tunnel side may have read from its local connections and not yet
/// handed to the WebSocket. Shared by all of the side's connections and granted first come,
/// first served: each connection asks for one frame at a time, so a busy connection waits
/// its turn behind the others (round-robin) and the memory held for sending stays bounded
/// (frames × read size) whatever the number of connections.
/// </summary>
internal sealed class SendBudget
{
    /// <summary>As many frames as the link's send queue holds, so a granted frame never waits for the queue.</summary>
    public const int Frames = Transport.TunnelLink.DefaultSendQueueCapacity;

    // SemaphoreSlim hands released slots to asynchronous waiters in the order they asked.
    private readonly SemaphoreSlim _slots = new(Frames, Frames);

    /// <summary>Waits for a frame slot.</summary>
    public Task WaitAsync(CancellationToken cancellationToken) => _slots.WaitAsync(cancellationToken);

    /// <summary>Gives a slot back once its frame is encoded, dropped or never read.</summary>
    public void Release() => _slots.Release();
}
