namespace AwsTunnel.Engine.Tunnel;

/// <summary>Why a tunnel session could not start.</summary>
public enum TunnelStartFailure
{
    /// <summary>The options were invalid.</summary>
    InvalidOptions,
    /// <summary>The service refused the handshake (4xx).</summary>
    HandshakeRejected,
    /// <summary>The service could not be reached (network, TLS, 5xx) within the start timeout.</summary>
    Unreachable,
    /// <summary>The local mapping does not match the tunnel's services.</summary>
    ServiceMismatch,
    /// <summary>A source port could not be bound.</summary>
    PortInUse,
    /// <summary>The start took longer than allowed.</summary>
    Timeout,
}

/// <summary>A session failed to start; <see cref="Failure"/> says why and the message names the fix.</summary>
public sealed class TunnelStartException : Exception
{
    public TunnelStartException(TunnelStartFailure failure, string message, Exception? inner = null)
        : base(message, inner) => Failure = failure;

    public TunnelStartFailure Failure { get; }
}
