using System.Management.Automation;
using AwsTunnel.Engine.Settings;
using AwsTunnel.Engine.Tunnel;

namespace AwsTunnel.PowerShell.Commands;

/// <summary>
/// The module's ErrorRecords: one ErrorId and category per kind of failure, the message from
/// the engine or the input check (they name the input and the fix; never a token).
/// </summary>
internal static class TunnelErrors
{
    /// <summary>A -Service value is malformed. ErrorId InvalidService, InvalidArgument.</summary>
    public static ErrorRecord InvalidService(FormatException ex, object? target) =>
        new(ex, "InvalidService", ErrorCategory.InvalidArgument, target);

    /// <summary>Options were rejected before connecting. ErrorId InvalidOptions, InvalidArgument.</summary>
    public static ErrorRecord InvalidOptions(ArgumentException ex, string errorId = "InvalidOptions") =>
        new(new ArgumentException(ex.Message), errorId, ErrorCategory.InvalidArgument, null);

    /// <summary>A settings file, override or config directory is invalid. ErrorId InvalidSettings (or the given id), InvalidArgument; the target is the key, else the file.</summary>
    public static ErrorRecord InvalidSettings(SettingsException ex, string errorId = "InvalidSettings") =>
        new(ex, errorId, ErrorCategory.InvalidArgument, ex.Key ?? ex.Origin);

    /// <summary>The session could not start; ErrorId is the <see cref="TunnelStartFailure"/> name.</summary>
    public static ErrorRecord StartFailed(TunnelStartException ex, object? target) =>
        new(ex, ex.Failure.ToString(), CategoryOf(ex.Failure), target);

    /// <summary>A tunnel agent could not connect to its broker or subscribe. ErrorId AgentStartFailed, ConnectionError.</summary>
    public static ErrorRecord AgentStartFailed(Exception ex, object? target) =>
        new(ex, "AgentStartFailed", ErrorCategory.ConnectionError, target);

    /// <summary>Nothing matched a name or id that has no wildcard.</summary>
    public static ErrorRecord NotFound(string errorId, string message, object? target) =>
        new(new ItemNotFoundException(message), errorId, ErrorCategory.ObjectNotFound, target);

    public static ErrorCategory CategoryOf(TunnelStartFailure failure) => failure switch
    {
        TunnelStartFailure.InvalidOptions => ErrorCategory.InvalidArgument,
        TunnelStartFailure.HandshakeRejected => ErrorCategory.AuthenticationError,
        TunnelStartFailure.Unreachable => ErrorCategory.ConnectionError,
        TunnelStartFailure.ServiceMismatch => ErrorCategory.InvalidArgument,
        TunnelStartFailure.PortInUse => ErrorCategory.ResourceUnavailable,
        TunnelStartFailure.Timeout => ErrorCategory.OperationTimeout,
        _ => ErrorCategory.NotSpecified,
    };
}
