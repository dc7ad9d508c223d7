using AwsTunnel.Engine.Tunnel;

namespace AwsTunnel.PowerShell;

/// <summary>
/// A local connection of a session opened or closed. Sessions write these to their job
/// output, so <c>Receive-Job</c> returns the history of streams.
/// </summary>
public sealed class TunnelStreamEvent : TunnelConnectionRecord
{
    internal TunnelStreamEvent(TunnelSession session, ConnectionEvent e)
        : base(session, e.Connection)
    {
        Time = DateTimeOffset.Now;
        Event = e.Kind;
        Reason = e.Reason;
    }

    /// <summary>When it happened.</summary>
    public DateTimeOffset Time { get; }

    /// <summary><c>Opened</c> or <c>Closed</c>.</summary>
    public string Event { get; }

    /// <summary>Why it closed, when known.</summary>
    public string? Reason { get; }

    /// <inheritdoc />
    public override string ToString() => $"{Event} {ServiceId} stream {StreamId} connection {ConnectionId} {RemoteEndPoint}";
}
