namespace AwsTunnel.Engine.Service;

/// <summary>
/// A change of a tunnel on the local service, raised after the change took effect: the
/// point where a device agent (MQTT notifications to the thing) or a test hooks in.
/// </summary>
public sealed class LocalTunnelEventArgs : EventArgs
{
    public LocalTunnelEventArgs(LocalTunnel tunnel, TunnelClientMode? rotated = null, string? reason = null)
    {
        Tunnel = tunnel;
        Rotated = rotated;
        Reason = reason;
    }

    /// <summary>The tunnel, with its current state and (secret) access tokens.</summary>
    public LocalTunnel Tunnel { get; }

    /// <summary>For <see cref="LocalTunnelRegistry.AccessTokensRotated"/>: whose tokens are new.</summary>
    public TunnelClientMode? Rotated { get; }

    /// <summary>For <see cref="LocalTunnelRegistry.Closed"/>: why (CloseTunnel, expiry, service stop).</summary>
    public string? Reason { get; }
}
