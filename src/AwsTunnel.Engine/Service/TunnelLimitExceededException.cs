namespace AwsTunnel.Engine.Service;

/// <summary>A tunnel cannot be opened: the local service already has its maximum of open tunnels.</summary>
public sealed class TunnelLimitExceededException : InvalidOperationException
{
    public TunnelLimitExceededException(int limit)
        : base($"The local tunneling service already has {limit} open tunnels, its limit (LocalTunnelServiceOptions.MaxOpenTunnels). Close a tunnel first, or start the service with a higher limit.")
    {
        Limit = limit;
    }

    public int Limit { get; }
}
