using AwsTunnel.Engine.Protocol;

namespace AwsTunnel.Engine.Tunnel;

/// <summary>The way local connections hand messages to the tunnel.</summary>
internal interface ITunnelSender
{
    /// <summary>Queues a message for the WebSocket; waits while it is busy.</summary>
    ValueTask SendAsync(Message message, CancellationToken cancellationToken);
}
