using System.Net;
using AwsTunnel.Engine.Tunnel;

namespace AwsTunnel.PowerShell;

/// <summary>
/// What every object about one local connection shows: its session, service, stream and
/// connection ids, both end points and the bytes each way.
/// </summary>
public abstract class TunnelConnectionRecord
{
    private protected TunnelConnectionRecord(TunnelSession session, ConnectionInfo info)
    {
        SessionId = session.Id;
        SessionName = session.Name;
        ServiceId = info.ServiceId;
        StreamId = info.StreamId;
        ConnectionId = info.ConnectionId;
        LocalEndPoint = Describe(info.LocalEndPoint);
        RemoteEndPoint = Describe(info.RemoteEndPoint);
        BytesFromTunnel = info.BytesFromTunnel;
        BytesToTunnel = info.BytesToTunnel;
        Started = info.Started;
    }

    /// <summary>The job id of the session (as in Get-Job).</summary>
    public int SessionId { get; }

    /// <summary>The session's name.</summary>
    public string SessionName { get; }

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

    /// <summary>Bytes that came out of the tunnel onto this connection (for a close event: the total).</summary>
    public long BytesFromTunnel { get; }

    /// <summary>Bytes read from this connection and sent into the tunnel (for a close event: the total).</summary>
    public long BytesToTunnel { get; }

    /// <summary>When the connection opened.</summary>
    public DateTimeOffset Started { get; }

    // Dual-mode sockets report IPv4 peers as [::ffff:a.b.c.d]:port; users typed and expect a.b.c.d:port.
    private static string? Describe(EndPoint? endPoint) =>
        endPoint is IPEndPoint { Address.IsIPv4MappedToIPv6: true } ip
            ? new IPEndPoint(ip.Address.MapToIPv4(), ip.Port).ToString()
            : endPoint?.ToString();
}
