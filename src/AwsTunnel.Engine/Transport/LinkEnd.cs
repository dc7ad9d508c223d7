using System.Net.WebSockets;

namespace AwsTunnel.Engine.Transport;

/// <summary>How a WebSocket link ended.</summary>
public enum LinkEndKind
{
    /// <summary>We closed it (stop requested).</summary>
    Stopped,
    /// <summary>The service sent a close frame.</summary>
    ClosedByService,
    /// <summary>The connection broke without a close handshake.</summary>
    Lost,
    /// <summary>The service or peer broke the protocol.</summary>
    ProtocolViolation,
}

/// <summary>The end of one WebSocket link, with the close status when the service sent one.</summary>
public sealed record LinkEnd(LinkEndKind Kind, string Description, WebSocketCloseStatus? CloseStatus = null, Exception? Error = null);
