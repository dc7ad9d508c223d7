using AwsTunnel.Engine.Tunnel;

namespace AwsTunnel.Cli;

/// <summary>The process exit codes of <c>awstunnel</c>, and how engine outcomes map to them.</summary>
public static class ExitCodes
{
    /// <summary>The tunnel was closed by the service, or the proxy was stopped by a signal.</summary>
    public const int Success = 0;

    /// <summary>Any other failure.</summary>
    public const int Failure = 1;

    /// <summary>Bad or missing arguments.</summary>
    public const int Usage = 2;

    /// <summary>The service refused the handshake (4xx): bad or used token, wrong mode or region, tunnel closed.</summary>
    public const int HandshakeRejected = 3;

    /// <summary>The local service mapping does not match the tunnel's services.</summary>
    public const int ServiceMismatch = 4;

    /// <summary>A source port could not be bound.</summary>
    public const int PortInUse = 5;

    /// <summary>The service was unreachable, the start timed out, or reconnecting gave up.</summary>
    public const int Unreachable = 6;

    /// <summary>Another proxy connected with the same access token and replaced this one.</summary>
    public const int PeerReplaced = 7;

    /// <summary>The service broke the protocol.</summary>
    public const int ProtocolError = 8;

    /// <summary>The table shown at the end of <c>--help</c>.</summary>
    internal const string Table =
        """
        Exit codes:
          0  the tunnel was closed by the service, or the proxy was stopped (Ctrl+C, SIGTERM)
          1  other failure
          2  bad or missing arguments
          3  handshake rejected by the service (4xx: token, mode, region, tunnel closed)
          4  the local mapping does not match the tunnel's services
          5  a source port could not be bound
          6  service unreachable, start timed out, or reconnect retries exhausted
          7  replaced by another proxy using the same access token
          8  protocol error
        """;

    /// <summary>The exit code for a failed start.</summary>
    public static int FromStartFailure(TunnelStartFailure failure) => failure switch
    {
        TunnelStartFailure.InvalidOptions => Usage,
        TunnelStartFailure.HandshakeRejected => HandshakeRejected,
        TunnelStartFailure.ServiceMismatch => ServiceMismatch,
        TunnelStartFailure.PortInUse => PortInUse,
        TunnelStartFailure.Unreachable or TunnelStartFailure.Timeout => Unreachable,
        _ => Failure,
    };

    /// <summary>The exit code for a session that ran and ended.</summary>
    public static int FromEnd(TunnelEndReason reason) => reason switch
    {
        TunnelEndReason.Stopped or TunnelEndReason.TunnelClosed => Success,
        TunnelEndReason.HandshakeRejected => HandshakeRejected,
        TunnelEndReason.ServiceMismatch => ServiceMismatch,
        TunnelEndReason.RetriesExhausted => Unreachable,
        TunnelEndReason.PeerReplaced => PeerReplaced,
        TunnelEndReason.ProtocolError => ProtocolError,
        _ => Failure,
    };
}
