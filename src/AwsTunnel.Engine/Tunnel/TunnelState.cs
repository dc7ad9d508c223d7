namespace AwsTunnel.Engine.Tunnel;

/// <summary>The life of a session.</summary>
public enum TunnelState
{
    NotStarted,
    Connecting,
    Connected,
    Reconnecting,
    Stopping,
    Ended,
}
