using AwsTunnel.Engine.Protocol;

namespace AwsTunnel.Engine.Transport;

/// <summary>
/// A message waiting for the WebSocket. When its payload lives in a pooled buffer,
/// <see cref="Payload"/> owns that buffer and <see cref="Message"/>'s payload is a view of it:
/// disposing the frame (once it is encoded, or dropped) returns the buffer.
/// </summary>
internal readonly record struct OutgoingFrame(Message Message, PooledPayload? Payload = null) : IDisposable
{
    /// <summary>True for the frames after which the WebSocket message must end (see <see cref="SendScheduler"/>).</summary>
    public bool StartsAStream => Message.Type is Message.Types.Type.StreamStart or Message.Types.Type.ConnectionStart;

    public void Dispose() => Payload?.Dispose();
}
