namespace AwsTunnel.Engine.Transport;

/// <summary>
/// One producer's share of a link's send turns (see <see cref="SendScheduler"/>): how many it
/// holds now, granted and not yet taken by the send loop. Guarded by the scheduler's lock.
/// </summary>
internal sealed class TurnShare
{
    /// <summary>Turns this producer holds.</summary>
    internal int Held;

    /// <summary>The turn it holds was granted while it held none: the frame posted in it goes ahead of the bulk frames.</summary>
    internal bool SparseTurn;
}
