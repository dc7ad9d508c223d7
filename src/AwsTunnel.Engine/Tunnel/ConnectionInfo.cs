using System.Net;

namespace AwsTunnel.Engine.Tunnel;

/// <summary>The state of a local connection.</summary>
public enum ConnectionState
{
    /// <summary>Destination only: connecting to the target.</summary>
    Connecting,
    /// <summary>Relaying both ways.</summary>
    Open,
    /// <summary>Flushing what was received, then closing.</summary>
    Closing,
    /// <summary>Closed.</summary>
    Closed,
}

/// <summary>A snapshot of one live connection (for Get-TunnelStream and logs).</summary>
public sealed record ConnectionInfo(
    string ServiceId,
    int StreamId,
    uint ConnectionId,
    EndPoint? LocalEndPoint,
    EndPoint? RemoteEndPoint,
    long BytesFromTunnel,
    long BytesToTunnel,
    DateTimeOffset Started,
    ConnectionState State);

/// <summary>A connection opened or closed, as reported to subscribers.</summary>
public sealed record ConnectionEvent(string Kind, ConnectionInfo Connection, string? Reason);
