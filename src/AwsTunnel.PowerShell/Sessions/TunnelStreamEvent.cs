using AwsTunnel.Engine.Tunnel;

namespace AwsTunnel.PowerShell;

/// <summary>
/// A local connection of a session opened or closed. Sessions write these to their job
/// output, so <c>Receive-Job</c> returns the history of streams.
/// </summary>
public sealed class TunnelStreamEvent
{
    internal TunnelStreamEvent(TunnelSession session, ConnectionEvent e)
    {
        Time = DateTimeOffset.Now;
        SessionId = session.Id;
        SessionName = session.Name;
        Event = e.Kind;
        ServiceId = e.Connection.ServiceId;
        StreamId = e.Connection.StreamId;
        ConnectionId = e.Connection.ConnectionId;
        LocalEndPoint = e.Connection.LocalEndPoint?.ToString();
        RemoteEndPoint = e.Connection.RemoteEndPoint?.ToString();
        BytesFromTunnel = e.Connection.BytesFromTunnel;
        BytesToTunnel = e.Connection.BytesToTunnel;
        Started = e.Connection.Started;
        Reason = e.Reason;
    }

    /// <summary>When it happened.</summary>
    public DateTimeOffset Time { get; }

    /// <summary>The job id of the session.</summary>
    public int SessionId { get; }

    /// <summary>The session's name.</summary>
    public string SessionName { get; }

    /// <summary><c>Opened</c> or <c>Closed</c>.</summary>
    public string Event { get; }

    /// <summary>The tunnel service; empty on a V1 tunnel.</summary>
    public string ServiceId { get; }

    /// <summary>The tunneling stream id.</summary>
    public int StreamId { get; }

    /// <summary>The connection id within the stream.</summary>
    public uint ConnectionId { get; }

    /// <summary>This machine's end of the TCP connection.</summary>
    public string? LocalEndPoint { get; }

    /// <summary>The other end of the TCP connection.</summary>
    public string? RemoteEndPoint { get; }

    /// <summary>Bytes out of the tunnel onto the connection (at close: the total).</summary>
    public long BytesFromTunnel { get; }

    /// <summary>Bytes from the connection into the tunnel (at close: the total).</summary>
    public long BytesToTunnel { get; }

    /// <summary>When the connection opened.</summary>
    public DateTimeOffset Started { get; }

    /// <summary>Why it closed, when known.</summary>
    public string? Reason { get; }

    /// <inheritdoc />
    public override string ToString() => $"{Event} {ServiceId} stream {StreamId} connection {ConnectionId} {RemoteEndPoint}";
}
