namespace AwsTunnel.Engine.Settings;

/// <summary>
/// The fine-grained settings of the reference local proxy (<c>tunneling.proxy.*</c> keys),
/// with its defaults. Immutable: derive changed copies with <c>with</c>.
/// </summary>
public sealed record ProxySettings
{
    /// <summary>The defaults of the reference proxy.</summary>
    public static ProxySettings Default { get; } = new();

    /// <summary><c>default_bind_address</c>: where a source listens unless told otherwise.</summary>
    public string DefaultBindAddress { get; init; } = "localhost";

    /// <summary><c>endpoint_format</c>: the service host for a region (<c>%s</c> is the region).</summary>
    public string EndpointFormat { get; init; } = "data.tunneling.iot.%s.amazonaws.com";

    /// <summary><c>region_endpoint_overrides</c>: host per region, taking precedence over the format.</summary>
    public IReadOnlyDictionary<string, string> RegionEndpointOverrides { get; init; } = new Dictionary<string, string>();

    /// <summary><c>message.data_length_size</c>: bytes of the frame length prefix.</summary>
    public int DataLengthSize { get; init; } = 2;

    /// <summary><c>message.max_payload_size</c>: largest DATA payload sent.</summary>
    public int MaxPayloadSize { get; init; } = 64512;

    /// <summary><c>message.max_size</c>: largest tunneling frame.</summary>
    public int MaxMessageSize { get; init; } = 65536;

    /// <summary><c>tcp.connection_retry_count</c>: destination connect retries (-1 forever).</summary>
    public int TcpConnectionRetryCount { get; init; } = 5;

    /// <summary><c>tcp.connection_retry_delay_ms</c>: delay between destination connect attempts.</summary>
    public int TcpConnectionRetryDelayMs { get; init; } = 2500;

    /// <summary><c>tcp.max_active_connections</c>: simultaneous connections per service.</summary>
    public int TcpMaxActiveConnections { get; init; } = 128;

    /// <summary><c>tcp.read_buffer_size</c>: bytes read from a local socket at a time (capped at one payload).</summary>
    public int TcpReadBufferSize { get; init; } = 131076;

    /// <summary><c>websocket.ping_period_ms</c>: keep-alive ping interval.</summary>
    public int WebSocketPingPeriodMs { get; init; } = 20000;

    /// <summary><c>websocket.retry_delay_ms</c>: delay before reconnecting the WebSocket.</summary>
    public int WebSocketRetryDelayMs { get; init; } = 2500;

    /// <summary><c>websocket.connect_retry_count</c>: WebSocket reconnect attempts (-1 forever).</summary>
    public int WebSocketConnectRetryCount { get; init; } = -1;

    /// <summary><c>websocket.reconnect_on_data_error</c>: reconnect after a protocol error in received data.</summary>
    public bool WebSocketReconnectOnDataError { get; init; } = true;

    /// <summary><c>websocket.subprotocol</c>: the highest subprotocol offered.</summary>
    public string WebSocketSubprotocol { get; init; } = "aws.iot.securetunneling-3.0";

    /// <summary><c>websocket.max_frame_size</c>: largest WebSocket message sent.</summary>
    public int WebSocketMaxFrameSize { get; init; } = 131076;

    /// <summary><c>websocket.write_buffer_size</c>.</summary>
    public int WebSocketWriteBufferSize { get; init; } = 131076;

    /// <summary><c>websocket.read_buffer_size</c>.</summary>
    public int WebSocketReadBufferSize { get; init; } = 131076;

    /// <summary>
    /// Our own: the most bytes received from the tunnel for one local connection that may wait
    /// for its socket. The tunnel never waits for a connection (the protocol has no per-stream
    /// flow control, so waiting would stall every connection): a connection whose client falls
    /// further behind than this is reset.
    /// </summary>
    public int ConnectionBufferLimitBytes { get; init; } = 16 * 1024 * 1024;

    /// <summary>
    /// Our own: how long received data may wait while the connection's socket takes nothing. A
    /// client that makes no progress for this long is reset (RST), also while its connection is
    /// closing and flushing; a slow client that keeps reading keeps its connection.
    /// </summary>
    public int ConnectionStallTimeoutMs { get; init; } = 10000;

    /// <summary>
    /// Our own: the most received bytes all local connections of one session together may have
    /// waiting for their sockets. When it is used up, the connection furthest behind is reset, so
    /// memory stays bounded however many connections there are.
    /// </summary>
    public int TunnelBufferLimitBytes { get; init; } = 64 * 1024 * 1024;

    /// <summary>
    /// Our own: the kernel send and receive buffer sizes asked for on the WebSocket's TCP socket
    /// (0: left to the operating system). Small keeps a bulk transfer from queueing megabytes
    /// ahead of other connections' data; large helps throughput on long paths. See
    /// <see cref="Transport.WebSocketTransport"/>.
    /// </summary>
    public int WebSocketSocketBufferBytes { get; init; } = Transport.WebSocketTransport.DefaultSocketBufferBytes;
}
