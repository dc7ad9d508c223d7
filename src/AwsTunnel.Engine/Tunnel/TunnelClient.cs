using System.Net.WebSockets;
using System.Security.Cryptography.X509Certificates;
using AwsTunnel.Engine.Protocol;
using AwsTunnel.Engine.Transport;
using Microsoft.Extensions.Logging;

namespace AwsTunnel.Engine.Tunnel;

/// <summary>
/// One local proxy session: connects to the service as source or destination, validates
/// the announced services, relays local connections, and keeps the tunnel up through
/// WebSocket losses until it is stopped or the tunnel ends.
/// </summary>
public sealed class TunnelClient : IAsyncDisposable
{
    /// <summary>How long to wait for SERVICE_IDS after a V2/V3 handshake before going on without it.</summary>
    private static readonly TimeSpan ServiceIdsWait = TimeSpan.FromSeconds(5);

    private readonly TunnelOptions _options;
    private readonly ILogger _logger;
    private readonly CertificateTrust _trust;
    private readonly TunnelSide _side;
    private readonly CancellationTokenSource _lifetime = new();
    private readonly TaskCompletionSource<TunnelEnd> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _ended;
    private TaskCompletionSource<IReadOnlyList<string>?> _serviceIds = NewServiceIdsSource();
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private IReadOnlyList<string>? _announced;
    private TunnelLink? _link;
    private ConnectedWebSocket? _connected;
    private int _started;
    private string? _lastStartFailure;

    public TunnelClient(TunnelOptions options)
    {
        options.Validate();
        _options = options;
        _logger = options.LoggerFactory.CreateLogger("AwsTunnel." + options.Mode);
        ClientToken = options.ClientToken ?? TunnelOptions.NewClientToken();
        var roots = new X509Certificate2Collection();
        if (options.CertificateAuthorityPath is { } caPath)
        {
            roots.AddRange(CertificateTrust.LoadDirectory(caPath, _logger));
        }

        if (options.TrustedCertificates is { } trusted)
        {
            roots.AddRange(trusted);
        }

        _trust = new CertificateTrust(roots, options.SkipCertificateCheck);
        _side = options.Mode == TunnelMode.Source
            ? new SourceSide(options.Settings, options.DestinationClientType, _logger)
            : new DestinationSide(options.Settings, options.DestinationClientType, _logger);
        _side.ConnectionChanged += e => ConnectionChanged?.Invoke(this, e);
    }

    /// <summary>A local connection opened or closed.</summary>
    public event EventHandler<ConnectionEvent>? ConnectionChanged;

    /// <summary>The session changed state.</summary>
    public event EventHandler<TunnelState>? StateChanged;

    public TunnelMode Mode => _options.Mode;

    public Uri ServiceUri => _options.ServiceUri;

    /// <summary>The client token sent on every connect. Secret.</summary>
    internal string ClientToken { get; }

    public TunnelState State { get; private set; } = TunnelState.NotStarted;

    /// <summary>The negotiated protocol version, once connected.</summary>
    public ProtocolVersion? Protocol { get; private set; }

    /// <summary>The service's <c>channel-id</c> of the current WebSocket.</summary>
    public string? ChannelId { get; private set; }

    /// <summary>The services the tunnel announced (SERVICE_IDS); empty for a V1 tunnel.</summary>
    public IReadOnlyList<string> ServiceIds => _announced ?? Array.Empty<string>();

    /// <summary>The resolved mappings, keyed by service id ("" for V1).</summary>
    public IReadOnlyDictionary<string, ServiceMapping> Services => _side.Services;

    /// <summary>Source: the bound address and port per service. Empty for a destination.</summary>
    public IReadOnlyDictionary<string, System.Net.IPEndPoint> ListenEndPoints =>
        _side is SourceSide source ? source.ListenEndPoints : new Dictionary<string, System.Net.IPEndPoint>();

    /// <summary>Source: the bound port per service. Empty for a destination.</summary>
    public IReadOnlyDictionary<string, int> Ports =>
        _side is SourceSide source ? source.Ports : new Dictionary<string, int>();

    /// <summary>How many times the WebSocket was reconnected.</summary>
    public int Reconnects { get; private set; }

    /// <summary>When the session connected first.</summary>
    public DateTimeOffset? ConnectedAt { get; private set; }

    /// <summary>
    /// Round-trip time to the service (the transport's smoothed RTT, sampled every ping
    /// period); null before the first sample or where the platform does not report it.
    /// </summary>
    public TimeSpan? Latency { get; private set; }

    /// <summary>Bytes sent and received over the current WebSocket.</summary>
    public long BytesSent => _link?.BytesSent ?? 0;
    public long BytesReceived => _link?.BytesReceived ?? 0;

    /// <summary>Completes when the session has ended, saying why.</summary>
    public Task<TunnelEnd> Completion => _completion.Task;

    /// <summary>Every live local connection.</summary>
    public IReadOnlyList<ConnectionInfo> Connections() => _side.Connections();

    /// <summary>
    /// Connects, validates the services and (source) starts listening. Returns once the
    /// session is ready for connections.
    /// </summary>
    /// <exception cref="TunnelStartException">the start failed; the message says why and what to do.</exception>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        if (Interlocked.Exchange(ref _started, 1) != 0)
        {
            throw new InvalidOperationException("The session was already started.");
        }

        if (_options.SkipCertificateCheck)
        {
            _logger.LogWarning("Certificate verification is off: the connection to {Uri} can be intercepted.", ServiceUri);
        }

        SetState(TunnelState.Connecting);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _lifetime.Token);
        timeout.CancelAfter(_options.StartTimeout);
        Task<LinkEnd> run;
        try
        {
            var connected = await ConnectForStartAsync(timeout.Token).ConfigureAwait(false);
            run = BeginLink(connected);
            var announced = await AwaitServiceIdsAsync(connected.Version, run, timeout.Token).ConfigureAwait(false);
            _announced = announced;
            var local = _options.Services.Count > 0
                ? _options.Services
                : Settings.ServiceConfigDirectory.SelectFor(_options.ConfigDirectoryServices, announced);
            _side.Configure(ServiceResolution.Resolve(Mode, local, announced));
            if (_side is SourceSide source)
            {
                await source.StartListenersAsync(_options.BindAddress ?? _options.Settings.DefaultBindAddress, timeout.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            string last = _lastStartFailure is null ? string.Empty : $" Last attempt: {_lastStartFailure}";
            var timedOut = new TunnelStartException(TunnelStartFailure.Timeout,
                $"The session did not start within {_options.StartTimeout.TotalSeconds:0.#} s. Check the endpoint and network, or allow more time.{last}");
            await AbortStartAsync(timedOut.Message).ConfigureAwait(false);
            throw timedOut;
        }
        catch (Exception ex)
        {
            await AbortStartAsync(ex.Message).ConfigureAwait(false);
            throw;
        }

        ConnectedAt = DateTimeOffset.Now;
        _ready.TrySetResult();
        SetState(TunnelState.Connected);
        _logger.LogInformation("Tunnel ready as {Mode} over {Protocol}; services: {Services}", Mode.ToWire(), Protocol,
            string.Join(", ", Services.Values));
        _ = SuperviseAsync(run);
        _ = SampleLatencyAsync();
    }

    private async Task SampleLatencyAsync()
    {
        var period = TimeSpan.FromMilliseconds(Math.Max(100, _options.Settings.WebSocketPingPeriodMs));
        using var timer = new PeriodicTimer(period);
        try
        {
            do
            {
                if (State == TunnelState.Connected && ConnectionRtt.TryRead(_connected?.Transport) is { } rtt)
                {
                    Latency = rtt;
                    _logger.LogDebug("Round-trip latency to the service: {Milliseconds:0.###} ms", rtt.TotalMilliseconds);
                }
            }
            while (await timer.WaitForNextTickAsync(_lifetime.Token).ConfigureAwait(false));
        }
        catch (OperationCanceledException)
        {
            // The session ended.
        }
    }

    /// <summary>Resets open connections, flushes, closes the WebSocket normally and releases every socket.</summary>
    public async Task StopAsync()
    {
        if (State is TunnelState.Ended or TunnelState.Stopping)
        {
            await _completion.Task.ConfigureAwait(false);
            return;
        }

        SetState(TunnelState.Stopping);
        (_side as SourceSide)?.StopListeners();
        (_side as DestinationSide)?.Stop();
        using var budget = new CancellationTokenSource(TimeSpan.FromSeconds(1));
        try
        {
            await _side.ResetAllAsync("the local proxy is stopping", budget.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or System.Threading.Channels.ChannelClosedException)
        {
            _side.DetachLink("the local proxy is stopping");
        }

        if (_link is { } link)
        {
            await link.StopAsync(TimeSpan.FromSeconds(1)).ConfigureAwait(false);
        }

        _lifetime.Cancel();
        Complete(new TunnelEnd(TunnelEndReason.Stopped, "The session was stopped."));
        await _completion.Task.ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        if (State != TunnelState.NotStarted)
        {
            await StopAsync().ConfigureAwait(false);
        }

        _connected?.Dispose();
    }

    private async Task<ConnectedWebSocket> ConnectForStartAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            try
            {
                return await ConnectOnceAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (TunnelHandshakeException ex) when (ex.IsRejection)
            {
                throw new TunnelStartException(TunnelStartFailure.HandshakeRejected, ex.Message, ex);
            }
            catch (TunnelHandshakeException ex) when (ex.StatusCode == 0 && _trust.LastFailure is not null)
            {
                throw new TunnelStartException(TunnelStartFailure.Unreachable, ex.Message, ex);
            }
            catch (TunnelHandshakeException ex)
            {
                _lastStartFailure = ex.Message;
                _logger.LogWarning("{Reason} Retrying in {Delay} ms.", ex.Message, _options.Settings.WebSocketRetryDelayMs);
                try
                {
                    await Task.Delay(_options.Settings.WebSocketRetryDelayMs, cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!_lifetime.IsCancellationRequested)
                {
                    throw new TunnelStartException(TunnelStartFailure.Unreachable, ex.Message, ex);
                }
            }
        }
    }

    private async Task<ConnectedWebSocket> ConnectOnceAsync(CancellationToken cancellationToken)
    {
        var connected = await WebSocketConnector.ConnectAsync(_options, ClientToken, _trust, _logger, cancellationToken).ConfigureAwait(false);
        Protocol = connected.Version;
        ChannelId = connected.ChannelId;
        _logger.LogInformation("Connected to {Authority} as {Mode} with {Subprotocol}, channel-id {ChannelId}",
            ServiceUri.Authority, Mode.ToWire(), Subprotocols.NameOf(connected.Version), connected.ChannelId ?? "(none)");
        return connected;
    }

    private Task<LinkEnd> BeginLink(ConnectedWebSocket connected)
    {
        _connected?.Dispose();
        _connected = connected;
        var link = new TunnelLink(connected.Socket, _logger, _options.Settings.WebSocketMaxFrameSize);
        _link = link;
        _side.AttachLink(new LinkSender(link), connected.Version);
        return link.RunAsync(DispatchAsync, _lifetime.Token);
    }

    private async Task<IReadOnlyList<string>?> AwaitServiceIdsAsync(ProtocolVersion version, Task<LinkEnd> run, CancellationToken cancellationToken)
    {
        if (version == ProtocolVersion.V1)
        {
            return null;
        }

        var wait = Task.Delay(ServiceIdsWait, cancellationToken);
        var first = await Task.WhenAny(_serviceIds.Task, run, wait).ConfigureAwait(false);
        if (first == run)
        {
            var end = await run.ConfigureAwait(false);
            throw new TunnelStartException(TunnelStartFailure.Unreachable, $"The connection ended during start: {end.Description}");
        }

        if (first == wait)
        {
            cancellationToken.ThrowIfCancellationRequested();
            _logger.LogWarning("The service sent no SERVICE_IDS within {Seconds} s; using the local mapping as given.", ServiceIdsWait.TotalSeconds);
            return null;
        }

        return await _serviceIds.Task.ConfigureAwait(false);
    }

    private async ValueTask DispatchAsync(Message message, byte[]? rentedPayload, CancellationToken cancellationToken)
    {
        if (message.Type == Message.Types.Type.ServiceIds)
        {
            OnServiceIds(message.AvailableServiceIds.ToList());
            return;
        }

        // Any other first message means the service sent no SERVICE_IDS on this link.
        _serviceIds.TrySetResult(null);
        if (!_ready.Task.IsCompleted)
        {
            await _ready.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }

        await _side.OnMessageAsync(message, rentedPayload, cancellationToken).ConfigureAwait(false);
    }

    private void OnServiceIds(IReadOnlyList<string> ids)
    {
        if (_serviceIds.TrySetResult(ids) && !_ready.Task.IsCompleted)
        {
            return;
        }

        var known = _announced ?? Array.Empty<string>();
        if (ids.Count == known.Count && ids.All(known.Contains))
        {
            _logger.LogDebug("SERVICE_IDS unchanged: {Services}", string.Join(", ", ids));
            return;
        }

        string message = $"The tunnel now announces services [{string.Join(", ", ids)}], but this session was started for [{string.Join(", ", known)}].";
        _logger.LogError("{Message} Ending the session.", message);
        Complete(new TunnelEnd(TunnelEndReason.ServiceMismatch, message));
        _ = StopLinkAsync();
    }

    private async Task StopLinkAsync()
    {
        if (_link is { } link)
        {
            await link.StopAsync(TimeSpan.FromSeconds(1)).ConfigureAwait(false);
        }
    }

    private async Task SuperviseAsync(Task<LinkEnd> run)
    {
        try
        {
            await SuperviseLinksAsync(run).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            // A bug must not leave the session silently "reconnecting" forever: end it, loudly.
            _logger.LogError(ex, "The session failed unexpectedly.");
            Complete(new TunnelEnd(TunnelEndReason.Failed, $"The session failed unexpectedly: {ex.Message}"));
        }
    }

    private async Task SuperviseLinksAsync(Task<LinkEnd> run)
    {
        while (true)
        {
            var end = await run.ConfigureAwait(false);
            _side.DetachLink("the WebSocket to the service ended");
            if (Volatile.Read(ref _ended) != 0 || _lifetime.IsCancellationRequested)
            {
                return;
            }

            var final = Classify(end);
            if (final is not null)
            {
                _logger.Log(final.IsSuccess ? LogLevel.Information : LogLevel.Error, "{Message}", final.Message);
                Complete(final);
                return;
            }

            _logger.LogWarning("{Reason} Reconnecting.", end.Description);
            SetState(TunnelState.Reconnecting);
            var reconnected = await ReconnectAsync().ConfigureAwait(false);
            if (reconnected is null)
            {
                return;
            }

            Reconnects++;
            _serviceIds = NewServiceIdsSource();
            run = BeginLink(reconnected);
            SetState(TunnelState.Connected);
        }
    }

    private TunnelEnd? Classify(LinkEnd end) => end.Kind switch
    {
        LinkEndKind.Stopped => new TunnelEnd(TunnelEndReason.Stopped, "The session was stopped."),
        LinkEndKind.ClosedByService when end.CloseStatus == WebSocketCloseStatus.NormalClosure =>
            new TunnelEnd(TunnelEndReason.TunnelClosed, $"The tunnel was closed by the service. {end.Description}"),
        LinkEndKind.ClosedByService when end.CloseStatus == WebSocketCloseStatus.PolicyViolation =>
            new TunnelEnd(TunnelEndReason.PeerReplaced, $"Another local proxy connected with this access token and replaced this one. {end.Description}"),
        LinkEndKind.ProtocolViolation when !_options.Settings.WebSocketReconnectOnDataError =>
            new TunnelEnd(TunnelEndReason.ProtocolError, end.Description),
        _ => null,
    };

    private async Task<ConnectedWebSocket?> ReconnectAsync()
    {
        var settings = _options.Settings;
        var backoff = new ReconnectBackoff(settings.WebSocketRetryDelayMs);
        for (int attempt = 1; settings.WebSocketConnectRetryCount < 0 || attempt <= settings.WebSocketConnectRetryCount; attempt++)
        {
            try
            {
                await Task.Delay(backoff.Next(), _lifetime.Token).ConfigureAwait(false);
                return await ConnectOnceAsync(_lifetime.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (_lifetime.IsCancellationRequested)
            {
                return null;
            }
            catch (TunnelHandshakeException ex) when (ex.IsRejection)
            {
                _logger.LogError("{Reason}", ex.Message);
                Complete(new TunnelEnd(TunnelEndReason.HandshakeRejected, ex.Message));
                return null;
            }
            catch (TunnelHandshakeException ex)
            {
                if (ex.StatusCode >= 500)
                {
                    backoff.ServerError();
                }
                else
                {
                    backoff.NetworkError();
                }

                _logger.LogWarning("Reconnect attempt {Attempt} failed: {Reason}", attempt, ex.Message);
            }
            catch (Exception ex)
            {
                // Anything else (a connect timeout, say) is one failed attempt, never the end of reconnecting.
                backoff.NetworkError();
                _logger.LogWarning("Reconnect attempt {Attempt} failed: {Reason}", attempt, ex.Message);
            }
        }

        Complete(new TunnelEnd(TunnelEndReason.RetriesExhausted,
            $"Could not reconnect after {settings.WebSocketConnectRetryCount} attempts (websocket.connect_retry_count)."));
        return null;
    }

    private async Task AbortStartAsync(string reason)
    {
        Complete(new TunnelEnd(TunnelEndReason.StartFailed, reason));
        if (_link is { } link)
        {
            await link.DisposeAsync().ConfigureAwait(false);
        }

        _connected?.Dispose();
    }

    /// <summary>
    /// Ends the session once: listeners and connections are closed and the state is Ended before
    /// <see cref="Completion"/> completes, so whoever awaits it sees the session fully ended.
    /// </summary>
    private void Complete(TunnelEnd end)
    {
        if (Interlocked.Exchange(ref _ended, 1) != 0)
        {
            return;
        }

        (_side as SourceSide)?.StopListeners();
        (_side as DestinationSide)?.Stop();
        _lifetime.Cancel();
        _side.DetachLink(end.Message);
        SetState(TunnelState.Ended);
        _completion.TrySetResult(end);
    }

    private void SetState(TunnelState state)
    {
        if (State == state)
        {
            return;
        }

        State = state;
        StateChanged?.Invoke(this, state);
    }

    private static TaskCompletionSource<IReadOnlyList<string>?> NewServiceIdsSource() =>
        new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Adapts the link to the sides' sender interface.</summary>
    private sealed class LinkSender : ITunnelSender
    {
        private readonly TunnelLink _link;
        public LinkSender(TunnelLink link) => _link = link;
        public ValueTask SendAsync(Message message, CancellationToken cancellationToken) => _link.SendAsync(message, cancellationToken);

        public ValueTask SendPooledAsync(Message message, byte[] rentedPayload, Action? written, CancellationToken cancellationToken) =>
            _link.SendPooledAsync(message, rentedPayload, written, cancellationToken);
    }
}
