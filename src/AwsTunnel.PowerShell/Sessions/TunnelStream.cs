using AwsTunnel.Engine.Protocol;
using AwsTunnel.Engine.Tunnel;

namespace AwsTunnel.PowerShell;

/// <summary>
/// One live local connection of a session, as Get-TunnelStream emits it: which session and
/// service it belongs to, its stream and connection ids, both end points, bytes each way.
/// </summary>
public sealed class TunnelStream
{
    internal TunnelStream(TunnelSession session, ConnectionInfo info)
    {
        SessionId = session.Id;
        SessionName = session.Name;
        Mode = session.Mode;
        ServiceId = info.ServiceId;
        StreamId = info.StreamId;
        ConnectionId = info.ConnectionId;
        LocalEndPoint = info.LocalEndPoint?.ToString();
        RemoteEndPoint = info.RemoteEndPoint?.ToString();
        BytesFromTunnel = info.BytesFromTunnel;
        BytesToTunnel = info.BytesToTunnel;
        Started = info.Started;
        State = info.State;
    }

    /// <summary>The job id of the session (as in Get-Job).</summary>
    public int SessionId { get; }

    /// <summary>The session's name.</summary>
    public string SessionName { get; }

    /// <summary>Source or destination.</summary>
    public TunnelMode Mode { get; }

    /// <summary>The tunnel service the connection belongs to; empty on a V1 tunnel.</summary>
    public string ServiceId { get; }

    /// <summary>The tunneling stream id.</summary>
    public int StreamId { get; }

    /// <summary>The connection id within the stream (V3); 1 for the first connection.</summary>
    public uint ConnectionId { get; }

    /// <summary>This machine's end of the TCP connection.</summary>
    public string? LocalEndPoint { get; }

    /// <summary>The other end of the TCP connection (the local client, or the destination target).</summary>
    public string? RemoteEndPoint { get; }

    /// <summary>Bytes that came out of the tunnel onto this connection.</summary>
    public long BytesFromTunnel { get; }

    /// <summary>Bytes read from this connection and sent into the tunnel.</summary>
    public long BytesToTunnel { get; }

    /// <summary>When the connection opened.</summary>
    public DateTimeOffset Started { get; }

    /// <summary>Connecting, Open, Closing or Closed.</summary>
    public ConnectionState State { get; }

    /// <inheritdoc />
    public override string ToString() => $"{SessionName} {ServiceId} stream {StreamId} connection {ConnectionId} {RemoteEndPoint} ({State})";
}
