using AwsTunnel.Engine.Settings;

namespace AwsTunnel.Engine.Tunnel;

/// <summary>The per-connection numbers of the data path, taken from the settings once per side.</summary>
/// <param name="ReadSize">Bytes read from the local socket per DATA frame (tcp.read_buffer_size, capped at one payload).</param>
/// <param name="BufferLimitBytes">The most received bytes one connection may have waiting for its socket (awstunnel.connection_buffer_limit_bytes).</param>
/// <param name="StallTimeout">How long data may wait while the socket takes nothing (awstunnel.connection_stall_timeout_ms).</param>
internal sealed record ConnectionLimits(int ReadSize, long BufferLimitBytes, TimeSpan StallTimeout)
{
    public static ConnectionLimits From(ProxySettings settings) => new(
        Math.Clamp(Math.Min(settings.TcpReadBufferSize, settings.MaxPayloadSize), 1, Protocol.ProtocolLimits.MaxPayloadSize),
        settings.ConnectionBufferLimitBytes,
        TimeSpan.FromMilliseconds(settings.ConnectionStallTimeoutMs));
}
