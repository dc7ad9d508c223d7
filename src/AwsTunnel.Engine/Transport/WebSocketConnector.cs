using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Security.Authentication;
using AwsTunnel.Engine.Protocol;
using AwsTunnel.Engine.Tunnel;
using Microsoft.Extensions.Logging;

namespace AwsTunnel.Engine.Transport;

/// <summary>A WebSocket to the service after a successful handshake.</summary>
public sealed record ConnectedWebSocket(WebSocket Socket, ProtocolVersion Version, string? ChannelId, HttpMessageInvoker Invoker) : IDisposable
{
    /// <summary>The TCP socket under the WebSocket (to the service, or to the web proxy).</summary>
    public Socket? Transport { get; init; }

    public void Dispose()
    {
        Socket.Dispose();
        Invoker.Dispose();
    }
}

/// <summary>
/// Opens the WebSocket to the tunneling service: <c>/tunnel?local-proxy-mode=…</c>, the
/// access token header, the optional client token, subprotocol negotiation, TLS 1.2+ with
/// the configured trust, through an optional web proxy.
/// </summary>
public static class WebSocketConnector
{
    private const string ChannelIdHeader = "channel-id";

    /// <exception cref="TunnelHandshakeException">the service refused, or could not be reached.</exception>
    public static async Task<ConnectedWebSocket> ConnectAsync(
        TunnelOptions options, string? clientToken, CertificateTrust trust, ILogger logger, CancellationToken cancellationToken)
    {
        var uri = TunnelEndpoint.HandshakeUri(options.ServiceUri, options.Mode);
        var handler = new SocketsHttpHandler
        {
            UseProxy = options.WebProxy is not null,
            Proxy = options.WebProxy,
            UseCookies = false,
            ConnectTimeout = options.StartTimeout,
            SslOptions = new SslClientAuthenticationOptions
            {
                EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
                RemoteCertificateValidationCallback = trust.Validate,
                CertificateChainPolicy = trust.CreateChainPolicy(),
            },
        };
        Socket? transport = null;
        ReadAheadStream? transportStream = null;
        var pingPeriod = TimeSpan.FromMilliseconds(Math.Max(100, options.Settings.WebSocketPingPeriodMs));
        var connectGate = new object();
        bool abandoned = false;
        handler.ConnectCallback = async (context, token) =>
        {
            var tcp = new Socket(SocketType.Stream, ProtocolType.Tcp);
            WebSocketTransport.Configure(tcp, options.Settings.WebSocketSocketBufferBytes);
            try
            {
                // The handler may finish a connection in the background after the request gave up;
                // our own token ends it too, so a stopped session leaves no socket behind.
                using var linked = CancellationTokenSource.CreateLinkedTokenSource(token, cancellationToken);
                await tcp.ConnectAsync(context.DnsEndPoint, linked.Token).ConfigureAwait(false);
            }
            catch
            {
                tcp.Dispose();
                throw;
            }

            if (!DetectsDeadConnections)
            {
                // Only once connected: a socket with options .NET does not track cannot try the
                // next address of a name after a failed attempt (localhost: ::1, then 127.0.0.1).
                try
                {
                    WebSocketTransport.EnableKeepAliveProbes(tcp, pingPeriod);
                }
                catch (Exception ex) when (ex is SocketException or PlatformNotSupportedException)
                {
                    logger.LogDebug("TCP keep-alive probes are not available here: {Reason}", ex.Message);
                }
            }

            lock (connectGate)
            {
                if (abandoned)
                {
                    tcp.Dispose();
                    throw new OperationCanceledException("The connect attempt was abandoned.");
                }

                transport = tcp;
            }

            transportStream = new ReadAheadStream(new NetworkStream(tcp, ownsSocket: true));
            return transportStream;
        };
        void Abandon()
        {
            lock (connectGate)
            {
                abandoned = true;
                transport?.Dispose();
            }
        }

        var invoker = new HttpMessageInvoker(new GatheredUpgradeHandler(handler, () => transportStream), disposeHandler: true);
        var socket = new ClientWebSocket();
        socket.Options.HttpVersion = HttpVersion.Version11;
        socket.Options.HttpVersionPolicy = HttpVersionPolicy.RequestVersionExact;
        socket.Options.CollectHttpResponseDetails = true;
        ConfigureKeepAlive(socket.Options, pingPeriod);
        socket.Options.SetRequestHeader("access-token", options.AccessToken);
        if (clientToken is not null)
        {
            socket.Options.SetRequestHeader("client-token", clientToken);
        }

        Subprotocols.TryParse(options.Settings.WebSocketSubprotocol, out var highest);
        var offered = Subprotocols.OfferedFrom(highest == 0 ? ProtocolVersion.V3 : highest);
        foreach (var name in offered)
        {
            socket.Options.AddSubProtocol(name);
        }

        logger.LogDebug("Connecting to {Uri} as {Mode}", uri, options.Mode.ToWire());
        logger.LogTrace("Upgrade request: GET {Uri}, subprotocols {Subprotocols}, access-token <redacted>, client-token {ClientToken}, attempt deadline {Seconds} s",
            uri, string.Join(", ", offered), clientToken is null ? "<none>" : "<redacted>", options.ConnectAttemptTimeout.TotalSeconds);
        // One deadline for the whole attempt, TCP, TLS and the wait for the 101 included: a front
        // end that accepts and never answers the upgrade must fail this attempt, not wedge the proxy.
        using var attempt = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        attempt.CancelAfter(options.ConnectAttemptTimeout);
        try
        {
            await socket.ConnectAsync(uri, invoker, attempt.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (attempt.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            socket.Dispose();
            invoker.Dispose();
            Abandon();
            throw new TunnelHandshakeException(
                $"The tunneling service at {uri.Authority} did not complete the WebSocket handshake within {options.ConnectAttemptTimeout.TotalSeconds:0.###} s (no answer to the upgrade request).",
                0, null, ex);
        }
        catch (Exception ex) when (ex is WebSocketException or HttpRequestException or IOException or AuthenticationException)
        {
            int status = (int)socket.HttpStatusCode;
            string? channelId = ReadChannelId(socket);
            socket.Dispose();
            invoker.Dispose();
            Abandon();
            string? proxy = options.WebProxy is { } webProxy && !webProxy.IsBypassed(uri) ? WebProxyResolver.Describe(webProxy, uri) : null;
            if (proxy is not null && ProxyTunnelStatus(ex) is int proxyStatus)
            {
                // The proxy answered the CONNECT itself: 4xx (auth, policy) is final, 5xx is retried.
                throw new TunnelHandshakeException(DescribeProxyRefusal(proxy, uri, proxyStatus), proxyStatus, null, ex);
            }

            string message = DescribeFailure(uri, status, channelId, trust, ex);
            if (proxy is not null && status == 0 && trust.LastFailure is null)
            {
                message = message.Replace($"at {uri.Authority}:", $"at {uri.Authority} through the web proxy {proxy}:", StringComparison.Ordinal);
            }

            throw new TunnelHandshakeException(message, status, channelId, ex);
        }
        catch
        {
            socket.Dispose();
            invoker.Dispose();
            Abandon();
            throw;
        }

        string? channel = ReadChannelId(socket);
        logger.LogTrace("Upgrade answered: {Status}, subprotocol {Subprotocol}, channel-id {ChannelId}",
            (int)socket.HttpStatusCode, socket.SubProtocol ?? "(none)", channel ?? "(none)");
        if (!Subprotocols.TryParse(socket.SubProtocol, out var version))
        {
            socket.Dispose();
            invoker.Dispose();
            throw new TunnelHandshakeException(
                $"The service at {uri.Authority} selected subprotocol '{socket.SubProtocol ?? "(none)"}', which is not a secure tunneling protocol.", 101, channel);
        }

        return new ConnectedWebSocket(socket, version, channel, invoker) { Transport = transport };
    }

    /// <summary>
    /// Keep-alive every ping period. On .NET 9 and later the runtime then sends real PING frames
    /// and, with a keep-alive timeout, aborts a connection whose PONG does not come back, so a
    /// dead network path is noticed and reconnected. .NET 8 sends unsolicited PONGs only, which
    /// keep the connection alive but cannot detect a dead one. The property is looked up at run
    /// time because the engine is compiled for .NET 8.
    /// </summary>
    private static void ConfigureKeepAlive(ClientWebSocketOptions options, TimeSpan period)
    {
        options.KeepAliveInterval = period;
        KeepAliveTimeoutProperty?.SetValue(options, period + period);
    }

    private static readonly System.Reflection.PropertyInfo? KeepAliveTimeoutProperty =
        typeof(ClientWebSocketOptions).GetProperty("KeepAliveTimeout");

    /// <summary>True when this runtime detects dead connections through unanswered pings.</summary>
    public static bool DetectsDeadConnections => KeepAliveTimeoutProperty is not null;

    /// <summary>The status a web proxy gave when it refused the CONNECT, if that is how the attempt failed.</summary>
    private static int? ProxyTunnelStatus(Exception ex)
    {
        for (var e = ex; e is not null; e = e.InnerException)
        {
            if (e is HttpRequestException { HttpRequestError: HttpRequestError.ProxyTunnelError } http)
            {
                if (http.StatusCode is { } code)
                {
                    return (int)code;
                }

                var match = System.Text.RegularExpressions.Regex.Match(http.Message, @"status code '(\d{3})'");
                return match.Success ? int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) : null;
            }
        }

        return null;
    }

    private static string DescribeProxyRefusal(string proxy, Uri uri, int status) => status switch
    {
        401 or 407 => $"The web proxy {proxy} refused to open a tunnel (CONNECT) to {uri.Authority} with HTTP {status}: it needs a user and password, or the ones given are wrong. Give them as http://USER:PASSWORD@HOST:PORT (percent-encoded) or -ProxyCredential.",
        403 => $"The web proxy {proxy} refused to open a tunnel (CONNECT) to {uri.Authority} with HTTP 403: its rules forbid CONNECT to this host or port. Ask for CONNECT to port {uri.Port} to be allowed.",
        _ => $"The web proxy {proxy} refused to open a tunnel (CONNECT) to {uri.Authority} with HTTP {status}.",
    };

    private static string? ReadChannelId(ClientWebSocket socket) =>
        socket.HttpResponseHeaders is { } headers && headers.TryGetValue(ChannelIdHeader, out var values)
            ? values.FirstOrDefault()
            : null;

    private static string DescribeFailure(Uri uri, int status, string? channelId, CertificateTrust trust, Exception ex)
    {
        string channel = channelId is null ? string.Empty : $" (channel-id {channelId})";
        if (status is >= 400 and < 500)
        {
            return $"The tunneling service at {uri.Authority} refused the connection with HTTP {status}{channel}: the access token is invalid, expired, already used without a client token, or for the other mode, or the tunnel is closed or in another region.";
        }

        if (status >= 500)
        {
            return $"The tunneling service at {uri.Authority} failed with HTTP {status}{channel}; this is retried.";
        }

        if (trust.LastFailure is { } tls)
        {
            return $"TLS with {uri.Authority} failed: {tls}.";
        }

        var root = ex;
        while (root.InnerException is not null)
        {
            root = root.InnerException;
        }

        return $"Could not connect to the tunneling service at {uri.Authority}: {root.Message}";
    }
}
