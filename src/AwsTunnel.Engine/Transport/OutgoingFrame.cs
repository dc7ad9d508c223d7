using AwsTunnel.Engine.Protocol;

namespace AwsTunnel.Engine.Transport;

/// <summary>
/// A message waiting for the WebSocket. When its payload lives in a pooled buffer,
/// <see cref="Payload"/> owns that buffer and <see cref="Message"/>'s payload is a view of it:
/// disposing the frame (once it is encoded, or dropped) returns the buffer.
/// </summary>
internal readonly record struct OutgoingFrame(Message Message, PooledPayload? Payload = null) : IDisposable
{
    /// <summary>
    /// True for the frames after which the WebSocket message must end (see <see cref="SendScheduler"/>): the
    /// reference proxy stops processing its read buffer after a STREAM_START (while it connects) and after a
    /// STREAM_RESET, and frames left behind in the same read wait for the next WebSocket message, which may
    /// never come (a reset followed by the next stream's start and first data stalled it in the interop suite).
    /// </summary>
    public bool EndsWebSocketMessage => Message.Type is Message.Types.Type.StreamStart or Message.Types.Type.ConnectionStart
        or Message.Types.Type.StreamReset;

    public void Dispose() => Payload?.Dispose();
}
