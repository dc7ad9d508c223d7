namespace AwsTunnel.Engine.Tunnel;

/// <summary>
/// Identifies one local TCP connection on the tunnel. <see cref="ConnectionId"/> is always
/// at least 1 here; whether it goes on the wire depends on the stream's protocol.
/// </summary>
public readonly record struct ConnectionKey(string ServiceId, int StreamId, uint ConnectionId)
{
    public override string ToString() =>
        $"{(ServiceId.Length == 0 ? "(default)" : ServiceId)}/stream {StreamId}/connection {ConnectionId}";
}
