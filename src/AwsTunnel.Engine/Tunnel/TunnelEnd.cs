namespace AwsTunnel.Engine.Tunnel;

/// <summary>Why a running session ended.</summary>
public enum TunnelEndReason
{
    /// <summary>Stopped locally (Stop-TunnelSession, Ctrl+C).</summary>
    Stopped,
    /// <summary>The service closed the tunnel (CloseTunnel or expiry).</summary>
    TunnelClosed,
    /// <summary>Another proxy connected with the same access token and replaced this one.</summary>
    PeerReplaced,
    /// <summary>A reconnect was refused (4xx): token rejected, expired or used elsewhere.</summary>
    HandshakeRejected,
    /// <summary>Reconnecting failed as many times as allowed.</summary>
    RetriesExhausted,
    /// <summary>The tunnel's services no longer match the local mapping.</summary>
    ServiceMismatch,
    /// <summary>The service broke the protocol and reconnecting on data errors is off.</summary>
    ProtocolError,
    /// <summary>The session never started (StartAsync threw).</summary>
    StartFailed,
    /// <summary>An unexpected internal failure ended the session (a bug: the message says what).</summary>
    Failed,
}

/// <summary>How and why a session ended.</summary>
public sealed record TunnelEnd(TunnelEndReason Reason, string Message)
{
    /// <summary>True for ends that are not failures: stopped locally, or the tunnel closed.</summary>
    public bool IsSuccess => Reason is TunnelEndReason.Stopped or TunnelEndReason.TunnelClosed;
}
