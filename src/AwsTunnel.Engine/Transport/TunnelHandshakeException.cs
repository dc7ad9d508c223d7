namespace AwsTunnel.Engine.Transport;

/// <summary>The WebSocket handshake with the tunneling service failed.</summary>
public sealed class TunnelHandshakeException : Exception
{
    public TunnelHandshakeException(string message, int statusCode, string? channelId, Exception? inner = null)
        : base(message, inner)
    {
        StatusCode = statusCode;
        ChannelId = channelId;
    }

    /// <summary>The HTTP status of the response; 0 when none came (network or TLS failure).</summary>
    public int StatusCode { get; }

    /// <summary>The service's <c>channel-id</c> for this attempt, when it sent one.</summary>
    public string? ChannelId { get; }

    /// <summary>4xx: the service refused for good (bad token, wrong mode or region, tunnel closed). Do not retry.</summary>
    public bool IsRejection => StatusCode is >= 400 and < 500;
}
