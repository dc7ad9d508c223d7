namespace AwsTunnel.Engine.Service;

/// <summary>A tunnel cannot be opened: the local service already has its maximum of open tunnels.</summary>
public sealed class TunnelLimitExceededException : InvalidOperationException
{
    public TunnelLimitExceededException(int limit)
        : base($"The local tunneling service already has {limit} open tunnels, its limit. Close a tunnel first, or start the service with a higher open-tunnel limit.")
    {
        Limit = limit;
    }

    public int Limit { get; }
}
