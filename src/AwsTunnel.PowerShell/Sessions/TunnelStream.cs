using AwsTunnel.Engine.Protocol;
using AwsTunnel.Engine.Tunnel;

namespace AwsTunnel.PowerShell;

/// <summary>
/// One live local connection of a session, as Get-TunnelStream emits it: which session and
/// service it belongs to, its stream and connection ids, both end points, bytes each way.
/// </summary>
public sealed class TunnelStream : TunnelConnectionRecord
{
    internal TunnelStream(TunnelSession session, ConnectionInfo info)
        : base(session, info)
    {
        Mode = session.Mode;
        State = info.State;
    }

    /// <summary>Source or destination.</summary>
    public TunnelMode Mode { get; }

    /// <summary>Connecting, Open, Closing or Closed.</summary>
    public ConnectionState State { get; }

    /// <inheritdoc />
    public override string ToString() => $"{SessionName} {ServiceId} stream {StreamId} connection {ConnectionId} {RemoteEndPoint} ({State})";
}
