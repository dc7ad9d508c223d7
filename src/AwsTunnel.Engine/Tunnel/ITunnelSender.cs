using AwsTunnel.Engine.Protocol;

namespace AwsTunnel.Engine.Tunnel;

/// <summary>The way local connections hand messages to the tunnel.</summary>
internal interface ITunnelSender
{
    /// <summary>Queues a message for the WebSocket; waits while it is busy.</summary>
    ValueTask SendAsync(Message message, CancellationToken cancellationToken);

    /// <summary>
    /// Queues a DATA message whose payload wraps a buffer rented from the shared pool; the
    /// receiver returns it to the pool once it is no longer needed, even on failure.
    /// </summary>
    /// <remarks><paramref name="written"/> runs once the frame is encoded or dropped, in every case.</remarks>
    ValueTask SendPooledAsync(Message message, byte[] rentedPayload, Action? written, CancellationToken cancellationToken);
}
