using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using AwsTunnel.Engine.Protocol;
using AwsTunnel.Engine.Service.Api;
using AwsTunnel.Engine.Transport;
using Microsoft.Extensions.Logging;

namespace AwsTunnel.Engine.Service;

/// <summary>
/// An in-process tunneling service on real sockets (ws, or wss with a self-signed
/// certificate): it applies the handshake rules, pairs tokens, announces SERVICE_IDS,
/// forwards messages in order between the two ends, replaces a peer that reconnects with
/// the same token, and closes or expires tunnels. For offline demos and tests.
/// </summary>
public sealed class LocalTunnelService : IAsyncDisposable
{
    /// <summary>
    /// Messages relayed to a proxy that may wait for its WebSocket. The service relays in the
    /// order it receives, without turns per connection, so its queue is kept shorter than a
    /// proxy's: 4 DATA frames still fill two WebSocket messages.
    /// </summary>
    private const int RelayQueueCapacity = 4;

    private readonly LocalTunnelServiceOptions _options;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stop = new();
    private readonly SecureTunnelingApi _api;
    private Socket? _listener;
    private Task? _acceptLoop;
    private int _stopping;
    private readonly SslStreamCertificateContext? _certificateContext;

    public LocalTunnelService(LocalTunnelServiceOptions? options = null)
    {
        _options = options ?? new LocalTunnelServiceOptions();
        _logger = _options.LoggerFactory.CreateLogger("AwsTunnel.LocalService");
        Registry = new LocalTunnelRegistry(_options, () => Endpoint, _logger, _stop.Token);
        _api = new SecureTunnelingApi(Registry, _options, _logger);
        if (_options.UseTls)
        {
            Certificate = SelfSignedCertificate.Create();
            // Made once: given only the certificate, every handshake would build its chain
            // (loading the system's certificate stores) before answering the client's hello.
            _certificateContext = SslStreamCertificateContext.Create(Certificate, additionalCertificates: null, offline: true);
        }
    }

    /// <summary>The address proxies connect to (valid after <see cref="StartAsync"/>).</summary>
    public Uri Endpoint { get; private set; } = new("ws://127.0.0.1:0");

    /// <summary>The environment variable the AWS CLI and SDKs read the Secure Tunneling API's endpoint from.</summary>
    public const string ApiEndpointVariable = "AWS_ENDPOINT_URL_IOTSECURETUNNELING";

    /// <summary>
    /// The Secure Tunneling API on the same port (http, or https with TLS): give it to the AWS
    /// CLI's --endpoint-url, AWS Tools' -EndpointUrl or AWS_ENDPOINT_URL_IOTSECURETUNNELING.
    /// </summary>
    public Uri ApiEndpoint => new UriBuilder(Endpoint) { Scheme = Endpoint.Scheme == "wss" ? "https" : "http", Path = "/" }.Uri;

    /// <summary>The self-signed certificate served over wss; trust it on the proxies.</summary>
    public X509Certificate2? Certificate { get; }

    /// <summary>The certificate in PEM form, to write to a file for <c>--capath</c>.</summary>
    public string? CertificatePem => Certificate?.ExportCertificatePem();

    /// <summary>The tunnels: open, close, rotate, and events on each change.</summary>
    public LocalTunnelRegistry Registry { get; }

    /// <summary>Every tunnel created and not deleted, open or closed.</summary>
    public IReadOnlyList<LocalTunnel> Tunnels => Registry.All;

    /// <summary>Binds the listener and starts accepting proxies.</summary>
    public Task StartAsync(CancellationToken cancellationToken = default)
    {
        if (_listener is not null)
        {
            throw new InvalidOperationException("The local tunneling service is already started.");
        }

        Bind(_options.Port);
        return Task.CompletedTask;
    }

    private void Bind(int requestedPort)
    {
        var listener = new Socket(_options.Address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            // Set before listening: accepted sockets start with these sizes and a matching window scale.
            WebSocketTransport.Configure(listener, WebSocketTransport.DefaultSocketBufferBytes);
            listener.Bind(new IPEndPoint(_options.Address, requestedPort));
            listener.Listen(512);
        }
        catch (SocketException ex)
        {
            listener.Dispose();
            throw new InvalidOperationException(
                $"The local tunneling service cannot listen on {Tunnel.ServiceMapping.FormatHostPort(_options.Address.ToString(), requestedPort)}: {ex.Message}. Choose another port, or 0 for any free port.", ex);
        }

        _listener = listener;
        int port = ((IPEndPoint)listener.LocalEndPoint!).Port;
        string host = _options.UseTls && IPAddress.IsLoopback(_options.Address) ? "localhost" : _options.Address.ToString();
        Endpoint = new Uri($"{(_options.UseTls ? "wss" : "ws")}://{Tunnel.ServiceMapping.FormatHostPort(host, port)}");
        _logger.LogInformation("Local tunneling service listening on {Endpoint}", Endpoint);
        _acceptLoop = AcceptLoopAsync(listener, _stop.Token);
    }

    /// <summary>Opens a tunnel for <paramref name="services"/> (none = a single-stream V1 tunnel), as OpenTunnel does.</summary>
    public LocalTunnel CreateTunnel(IEnumerable<string>? services = null, TimeSpan? lifetime = null) =>
        Registry.Open(new LocalTunnelSpec { Services = (services ?? Array.Empty<string>()).ToList(), Lifetime = lifetime });

    /// <summary>Finds a tunnel by id.</summary>
    public LocalTunnel? FindTunnel(string tunnelId) => Registry.Find(tunnelId);

    /// <summary>Closes a tunnel, as CloseTunnel does: both ends see the WebSocket close normally.</summary>
    /// <exception cref="ArgumentException">no tunnel has that id.</exception>
    public Task CloseTunnelAsync(string tunnelId)
    {
        var tunnel = FindTunnel(tunnelId) ?? throw new ArgumentException($"No tunnel with id '{tunnelId}' exists on this local service.", nameof(tunnelId));
        return Registry.CloseAsync(tunnel, "closed by CloseTunnel");
    }

    /// <summary>
    /// Fault injection: cuts the WebSockets of a tunnel's proxies without a close handshake,
    /// as a network loss would. The tunnel stays open, so the proxies reconnect.
    /// </summary>
    /// <exception cref="ArgumentException">no tunnel has that id.</exception>
    public void DropConnections(string tunnelId)
    {
        var tunnel = FindTunnel(tunnelId) ?? throw new ArgumentException($"No tunnel with id '{tunnelId}' exists on this local service.", nameof(tunnelId));
        tunnel.DropConnections();
    }

    /// <summary>
    /// Fault injection: the service goes down for <paramref name="downtime"/> (listener closed,
    /// every WebSocket cut) and comes back on the same port with the same tunnels.
    /// </summary>
    public async Task RestartAsync(TimeSpan downtime)
    {
        var listener = _listener ?? throw new InvalidOperationException("The local tunneling service is not started.");
        var port = ((IPEndPoint)listener.LocalEndPoint!).Port;
        _listener = null;
        listener.Dispose();
        foreach (var tunnel in Registry.All)
        {
            tunnel.DropConnections();
        }

        _logger.LogInformation("Local tunneling service down for {Downtime} ms", downtime.TotalMilliseconds);
        await Task.Delay(downtime, _stop.Token).ConfigureAwait(false);
        Bind(port);
    }

    /// <summary>Closes every tunnel and stops listening.</summary>
    public async Task StopAsync()
    {
        if (Interlocked.Exchange(ref _stopping, 1) != 0)
        {
            return;
        }

        // Close the tunnels first, so the proxies see a normal close rather than a cut connection.
        _listener?.Dispose();
        await Registry.CloseAllAsync("the local tunneling service stopped").ConfigureAwait(false);
        _stop.Cancel();
        if (_acceptLoop is not null)
        {
            await _acceptLoop.ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        _stop.Dispose();
    }

    private async Task AcceptLoopAsync(Socket listener, CancellationToken cancellationToken)
    {
        var backoff = new AcceptBackoff(_logger, "the local tunneling service");
        while (!cancellationToken.IsCancellationRequested)
        {
            Socket client;
            try
            {
                await backoff.WaitForRoomAsync(cancellationToken).ConfigureAwait(false);
                client = await listener.AcceptAsync(cancellationToken).ConfigureAwait(false);
                backoff.OnSuccess();
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException)
            {
                return;
            }
            catch (SocketException) when (!ReferenceEquals(listener, _listener) || cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (SocketException ex)
            {
                try
                {
                    await backoff.OnFailureAsync(ex, cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                continue;
            }

            _ = ServeAsync(client, cancellationToken);
        }
    }

    private async Task ServeAsync(Socket client, CancellationToken cancellationToken)
    {
        WebSocketTransport.Configure(client, WebSocketTransport.DefaultSocketBufferBytes);
        var transport = new ReadAheadStream(new NetworkStream(client, ownsSocket: true));
        Stream stream = transport;
        string channelId = Guid.NewGuid().ToString("N");
        try
        {
            using var handshakeTimeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            handshakeTimeout.CancelAfter(TimeSpan.FromSeconds(10));
            if (Certificate is not null)
            {
                var tls = new SslStream(stream, leaveInnerStreamOpen: false);
                stream = tls;
                await tls.AuthenticateAsServerAsync(new SslServerAuthenticationOptions
                {
                    ServerCertificateContext = _certificateContext,
                    EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
                }, handshakeTimeout.Token).ConfigureAwait(false);
            }

            var request = await HttpUpgradeRequest.ReadAsync(stream, handshakeTimeout.Token, HttpUpgradeRequest.MaxHeadBytes).ConfigureAwait(false);
            if (request is null)
            {
                await HttpUpgradeRequest.WriteRejectionAsync(stream, 400,
                    $"Malformed or oversized request head (the limit is {HttpUpgradeRequest.MaxRequestBytes} bytes for a handshake, {HttpUpgradeRequest.MaxHeadBytes} for an API call).", channelId, cancellationToken).ConfigureAwait(false);
                await stream.DisposeAsync().ConfigureAwait(false);
                return;
            }

            // The Secure Tunneling API shares the port: anything but a handshake for /tunnel is an API call.
            if (!request.IsWebSocketUpgrade && request.Path != "/tunnel")
            {
                await ApiHttpConnection.ServeAsync(stream, request, _api, _logger, cancellationToken).ConfigureAwait(false);
                return;
            }

            var admission = Admit(request);
            if (admission.Status != 101)
            {
                _logger.LogInformation("Refused a handshake with HTTP {Status} (channel {ChannelId}): {Reason}", admission.Status, channelId, admission.Reason);
                await HttpUpgradeRequest.WriteRejectionAsync(stream, admission.Status, admission.Reason, channelId, cancellationToken).ConfigureAwait(false);
                await stream.DisposeAsync().ConfigureAwait(false);
                return;
            }

            if (Certificate is not null)
            {
                // One send per WebSocket message, not one per TLS record.
                stream = new GatheredWriteStream(stream, transport);
            }

            var socket = WebSocket.CreateFromStream(stream, new WebSocketCreationOptions
            {
                IsServer = true,
                SubProtocol = Subprotocols.NameOf(admission.Version),
                KeepAliveInterval = TimeSpan.Zero,
            });
            var peer = new ServicePeer(admission.Mode, new TunnelLink(socket, _logger, strictDecoding: true, sendQueueCapacity: RelayQueueCapacity), admission.Version, channelId);

            // Attach before the 101 goes out: once the proxy sees the handshake succeed, the
            // service already forwards to it (nothing is written on the WebSocket before the 101).
            admission.Tunnel!.Attach(peer, admission.ClientToken);
            try
            {
                await HttpUpgradeRequest.WriteAcceptAsync(stream, request.Header("Sec-WebSocket-Key")[0],
                    Subprotocols.NameOf(admission.Version), channelId, cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                admission.Tunnel.Detach(peer);
                throw;
            }

            await RunPeerAsync(admission.Tunnel, peer, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or AuthenticationException or OperationCanceledException or SocketException or ObjectDisposedException)
        {
            _logger.LogDebug("Connection (channel {ChannelId}) ended during the handshake: {Reason}", channelId, ex.Message);
            await stream.DisposeAsync().ConfigureAwait(false);
        }
    }

    private async Task RunPeerAsync(LocalTunnel tunnel, ServicePeer peer, CancellationToken cancellationToken)
    {
        var link = peer.Link;
        _logger.LogInformation("Tunnel {TunnelId}: {Mode} connected with {Subprotocol} (channel {ChannelId})",
            tunnel.TunnelId, peer.Mode.ToWire(), Subprotocols.NameOf(peer.Version), peer.ChannelId);

        var end = await link.RunAsync((message, payload, token) =>
        {
            var check = MessageRules.CheckSentByProxy(message, peer.Mode);
            if (check.Outcome == MessageOutcome.Violation)
            {
                // Ends the link's receive loop at once: nothing more is read from or forwarded for
                // this peer, and it is logged once below, whatever else it had sent.
                payload?.Dispose();
                throw new TunnelProtocolException(check.Reason!);
            }

            return tunnel.ForwardAsync(peer, message, payload, token);
        }, cancellationToken).ConfigureAwait(false);

        if (end.Kind == LinkEndKind.ProtocolViolation)
        {
            // As the service does: a proxy that breaks the rules (e.g. unknown fields) loses its WebSocket (close status 1002).
            _logger.LogWarning("Tunnel {TunnelId}: {Mode} broke the protocol: {Reason}. Closed its WebSocket.", tunnel.TunnelId, peer.Mode.ToWire(), end.Description);
        }

        tunnel.Detach(peer);
        _logger.LogInformation("Tunnel {TunnelId}: {Mode} disconnected (channel {ChannelId}): {Reason}",
            tunnel.TunnelId, peer.Mode.ToWire(), peer.ChannelId, end.Description);
        await link.DisposeAsync().ConfigureAwait(false);
    }

    private Admission Admit(HttpUpgradeRequest request)
    {
        if (request.HeadBytes > HttpUpgradeRequest.MaxRequestBytes)
        {
            return Admission.Refuse(431, $"The handshake is {request.HeadBytes} bytes; the limit is {HttpUpgradeRequest.MaxRequestBytes}.");
        }

        if (request.Method != "GET")
        {
            return Admission.Refuse(400, $"Method {request.Method} is not allowed; the handshake is a GET.");
        }

        if (request.Path != "/tunnel")
        {
            return Admission.Refuse(400, $"Path '{request.Path}' is not served; connect to /tunnel.");
        }

        if (!TunnelModeNames.TryParseWire(request.QueryValue("local-proxy-mode"), out var mode))
        {
            return Admission.Refuse(400, "local-proxy-mode must be 'source' or 'destination'.");
        }

        if (!request.HeaderTokens("Upgrade").Contains("websocket", StringComparer.OrdinalIgnoreCase) ||
            request.Header("Sec-WebSocket-Key").Count != 1 ||
            !request.Header("Sec-WebSocket-Version").Contains("13"))
        {
            return Admission.Refuse(400, "Not a WebSocket upgrade (version 13) request.");
        }

        var offered = request.HeaderTokens("Sec-WebSocket-Protocol");
        ProtocolVersion? version = null;
        for (var v = _options.MaxProtocol; v >= ProtocolVersion.V1; v--)
        {
            if (offered.Contains(Subprotocols.NameOf(v)))
            {
                version = v;
                break;
            }
        }

        if (version is null)
        {
            return Admission.Refuse(400, $"No supported subprotocol offered (offered: {string.Join(", ", offered)}).");
        }

        var tokens = request.Header("access-token").Concat(request.Cookie("awsiot-tunnel-token")).ToList();
        if (tokens.Count != 1)
        {
            return Admission.Refuse(401, tokens.Count == 0
                ? "No access token: send the access-token header or the awsiot-tunnel-token cookie."
                : "More than one access token was sent; send exactly one.");
        }

        var clientTokens = request.Header("client-token");
        if (clientTokens.Count > 1 || (clientTokens.Count == 1 && !Tunnel.TunnelOptions.IsValidClientToken(clientTokens[0])))
        {
            return Admission.Refuse(400, "The client-token header must be one value of 32 to 128 letters, digits or '-'.");
        }

        string? clientToken = clientTokens.Count == 1 ? clientTokens[0] : null;
        var tunnels = Registry.All;
        foreach (var tunnel in tunnels)
        {
            if (tunnel.ModeOf(tokens[0]) is not { } tokenMode)
            {
                continue;
            }

            if (tokenMode != mode)
            {
                return Admission.Refuse(400, $"The access token is for {tokenMode.ToWire()} mode, but local-proxy-mode is {mode.ToWire()}.");
            }

            var refusal = tunnel.Admit(mode, clientToken);
            return refusal is null
                ? new Admission(101, string.Empty, tunnel, mode, version.Value, clientToken)
                : Admission.Refuse(tunnel.IsOpen ? 401 : 410, $"The access token is not accepted: {refusal}.");
        }

        return Admission.Refuse(401, tunnels.Any(t => t.WasRotatedAway(tokens[0]))
            ? "The access token was replaced by RotateTunnelAccessToken; connect with the new token."
            : "The access token is not valid for any tunnel.");
    }

    private sealed record Admission(int Status, string Reason, LocalTunnel? Tunnel, TunnelMode Mode, ProtocolVersion Version, string? ClientToken)
    {
        public static Admission Refuse(int status, string reason) => new(status, reason, null, default, default, null);
    }
}
