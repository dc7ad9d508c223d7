using System.Buffers;
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
/// <para>
/// The session owns everything it starts. Its state moves by atomic transitions
/// (NotStarted → Connecting → Connected ⇄ Reconnecting → Stopping → Ended; any state but
/// NotStarted may end), and a link is attached only by the transition to Connected, under the
/// same lock a stop takes, so no link can be attached after a stop began. Every task (link
/// supervisor, latency sampler, accept loops, connections, connect attempts, the progress
/// check) is tracked: once <see cref="StopAsync"/> or <see cref="DisposeAsync"/> returns, all
/// have ended (those that do not end at a deadline are cut: sockets closed with RST), and with
/// them every socket and pooled buffer of the session. Events and log records are delivered
/// off the I/O loops, in order (see <see cref="SerialDispatcher"/>).
/// </para>
/// </summary>
public sealed class TunnelClient : IAsyncDisposable
{
    /// <summary>How long to wait for SERVICE_IDS after a V2/V3 handshake before going on without it.</summary>
    private static readonly TimeSpan ServiceIdsWait = TimeSpan.FromSeconds(5);

    /// <summary>How long a stop lets connections write what they received before cutting them.</summary>
    private static readonly TimeSpan StopFlushDeadline = TimeSpan.FromSeconds(2);

    /// <summary>How long a stop waits for the session's tasks before cutting what is left, and again after.</summary>
    private static readonly TimeSpan StopTaskDeadline = TimeSpan.FromSeconds(2);

    private readonly TunnelOptions _options;
    private readonly ILogger _logger;
    private readonly SerialDispatcher _events = new();
    private readonly SessionTasks _tasks;
    private readonly object _linkGate = new();
    private int _state = (int)TunnelState.NotStarted;
    private int _released;
    private Task? _stopping;
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
        _logger = new DispatchedLoggerFactory(options.LoggerFactory, _events).CreateLogger("AwsTunnel." + options.Mode);
        _events.OnError(ex => _logger.LogWarning("A subscriber to a session event threw {Type}: {Message}", ex.GetType().Name, ex.Message));
        // Written on the dispatcher itself, in place of the records that are missing.
        var direct = options.LoggerFactory.CreateLogger("AwsTunnel." + options.Mode);
        _events.OnLogsDropped(count => direct.LogWarning(
            "{Count} log records were dropped: the log output fell more than {Limit} records behind the session. Log less (a lower verbosity) or give the log a faster output.",
            count, SerialDispatcher.MaxPendingLogs));
        _tasks = new SessionTasks(ex => _logger.LogError(ex, "A session task failed unexpectedly."));
        ClientToken = options.ClientToken ?? TunnelOptions.NewClientToken();
        if (!options.SkipCertificateCheck && options.ServiceUri.Scheme == Uri.UriSchemeWss)
        {
            // The first handshake validates the service's certificate; have the system store ready by then.
            SystemTrustStoreWarmUp.Begin();
        }

        var roots = new X509Certificate2Collection();
        if (options.CertificateAuthorityPath is { } caPath)
        {
            roots.AddRange(CertificateTrust.LoadDirectory(caPath, _logger));
        }

        if (options.TrustedCertificates is { } trusted)
        {
            roots.AddRange(trusted);
        }

        _trust = new CertificateTrust(roots, options.SkipCertificateCheck, options.CertificateAuthorityOption);
        _side = options.Mode == TunnelMode.Source
            ? new SourceSide(options.Settings, options.DestinationClientType, _logger, _tasks, _events)
            : new DestinationSide(options.Settings, options.DestinationClientType, _logger, _tasks, _events);
        _side.ConnectionChanged += e => ConnectionChanged?.Invoke(this, e);
    }

    /// <summary>A local connection opened or closed. Raised in order, off the session's socket and link loops; a throwing subscriber is logged.</summary>
    public event EventHandler<ConnectionEvent>? ConnectionChanged;

    /// <summary>The session changed state. Raised in order, off the session's socket and link loops; a throwing subscriber is logged.</summary>
    public event EventHandler<TunnelState>? StateChanged;

    public TunnelMode Mode => _options.Mode;

    public Uri ServiceUri => _options.ServiceUri;

    /// <summary>The client token sent on every connect. Secret.</summary>
    internal string ClientToken { get; }

    public TunnelState State => (TunnelState)Volatile.Read(ref _state);

    /// <summary>Tasks of this session still running (tests check that a stop leaves none).</summary>
    internal int RunningTasks => _tasks.Count;

    /// <summary>Connections not yet fully closed (tests check that a stop leaves none).</summary>
    internal int LiveConnections => _side.LiveConnections;

    /// <summary>The bytes held for local sockets, with their bound and high-water mark.</summary>
    internal ReceiveBudget ReceiveBudget => _side.ReceiveBudget;

    /// <summary>WebSocket messages sent on the current link (tests check how frames are packed).</summary>
    internal long MessagesSent => _link?.MessagesSent ?? 0;

    /// <summary>The negotiated protocol version, once connected.</summary>
    public ProtocolVersion? Protocol { get; private set; }

    /// <summary>The service's <c>channel-id</c> of the current WebSocket.</summary>
    public string? ChannelId { get; private set; }

    /// <summary>The services the tunnel announced (SERVICE_IDS); empty for a V1 tunnel.</summary>
    public IReadOnlyList<string> ServiceIds => _announced ?? Array.Empty<string>();

    /// <summary>The resolved mappings, keyed by service id ("" for V1).</summary>
    /// <remarks>A source's mappings carry the port each listener was bound to (a requested 0 becomes the port it got).</remarks>
    public IReadOnlyDictionary<string, ServiceMapping> Services
    {
        get
        {
            var bound = ListenEndPoints;
            return _side.Services.ToDictionary(p => p.Key, p => bound.TryGetValue(p.Key, out var at) ? p.Value with { Port = at.Port } : p.Value, StringComparer.Ordinal);
        }
    }

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
        if (Interlocked.Exchange(ref _started, 1) != 0 || !TryMove(TunnelState.NotStarted, TunnelState.Connecting))
        {
            throw new InvalidOperationException("The session was already started.");
        }

        if (_options.SkipCertificateCheck)
        {
            _logger.LogWarning("Certificate verification is off: the connection to {Uri} can be intercepted.", ServiceUri);
        }

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
            _side.Configure(ServiceResolution.Resolve(Mode, local, announced, _logger));
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
            await _events.WhenIdleAsync(TimeSpan.FromSeconds(1)).ConfigureAwait(false);
            throw timedOut;
        }
        catch (Exception ex)
        {
            await AbortStartAsync(ex.Message).ConfigureAwait(false);
            await _events.WhenIdleAsync(TimeSpan.FromSeconds(1)).ConfigureAwait(false);
            throw;
        }

        ConnectedAt = DateTimeOffset.Now;
        _ready.TrySetResult();
        if (!TryMove(TunnelState.Connecting, TunnelState.Connected))
        {
            // Stopped while starting: the stop owns the teardown.
            _tasks.Track(run);
            throw new TunnelStartException(TunnelStartFailure.Timeout, "The session was stopped while it was starting.");
        }

        _logger.LogInformation("Tunnel ready as {Mode} over {Protocol}; services: {Services}", Mode.ToWire(), Protocol,
            ServiceIdList.Describe(Services.Values));
        _tasks.Track(SuperviseAsync(run));
        _tasks.Track(SampleLatencyAsync());
        _tasks.Track(_side.CheckProgressAsync(_lifetime.Token));

        // Log records and events are delivered off the I/O loops; the caller of a start sees those of the start.
        await _events.WhenIdleAsync(TimeSpan.FromSeconds(1)).ConfigureAwait(false);
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

    /// <summary>
    /// Resets open connections (each may write what it received for up to 2 s, then is cut with
    /// RST), closes the WebSocket normally and waits for every task of the session. Once this
    /// returns, no socket, task or pooled buffer of the session remains.
    /// </summary>
    public Task StopAsync()
    {
        lock (_linkGate)
        {
            if (_stopping is null)
            {
                _stopping = StopOnceAsync();
            }

            return _stopping;
        }
    }

    private async Task StopOnceAsync()
    {
        TunnelLink? link;
        bool stopping;
        lock (_linkGate)
        {
            stopping = TryMoveToStopping();
            link = _link;
        }

        if (stopping)
        {
            (_side as SourceSide)?.StopListeners();
            (_side as DestinationSide)?.Stop();
            await _side.CloseAllAsync("the local proxy is stopping", StopFlushDeadline).ConfigureAwait(false);
            if (link is not null)
            {
                await link.StopAsync(TimeSpan.FromSeconds(1)).ConfigureAwait(false);
            }

            Complete(new TunnelEnd(TunnelEndReason.Stopped, "The session was stopped."));
        }

        await ReleaseAsync().ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        if (State == TunnelState.NotStarted)
        {
            Complete(new TunnelEnd(TunnelEndReason.Stopped, "The session was disposed before it started."));
        }

        await StopAsync().ConfigureAwait(false);
    }

    /// <summary>
    /// After the end: waits for every task of the session; what has not ended by the deadline is
    /// cut (connections with RST, the WebSocket aborted) and waited for once more. Then the
    /// WebSocket is disposed and the pending events and log records are delivered.
    /// </summary>
    private async Task ReleaseAsync()
    {
        if (Interlocked.Exchange(ref _released, 1) != 0)
        {
            return;
        }

        _lifetime.Cancel();
        if (!await _tasks.WhenAllAsync(StopTaskDeadline).ConfigureAwait(false))
        {
            _logger.LogWarning("{Count} session tasks were still running {Seconds} s after the stop; cutting their connections.",
                _tasks.Count, StopTaskDeadline.TotalSeconds);
            _side.AbortEverything("the session ended");
            _link?.Abort();
            if (!await _tasks.WhenAllAsync(StopTaskDeadline).ConfigureAwait(false))
            {
                _logger.LogError("{Count} session tasks did not end after their sockets were closed.", _tasks.Count);
            }
        }

        _side.AbortEverything("the session ended");
        if (_link is { } link)
        {
            await link.DisposeAsync().ConfigureAwait(false);
        }

        _connected?.Dispose();
        await _events.WhenIdleAsync(TimeSpan.FromSeconds(2)).ConfigureAwait(false);
    }

    /// <summary>
    /// The first connection, tried 1 + <c>websocket.connect_retry_count</c> times (-1: until the
    /// start times out), so "0" gives up after one attempt as the reference does.
    /// </summary>
    private async Task<ConnectedWebSocket> ConnectForStartAsync(CancellationToken cancellationToken)
    {
        int retries = _options.Settings.WebSocketConnectRetryCount;
        for (int attempt = 1; ; attempt++)
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
                if (retries >= 0 && attempt > retries)
                {
                    throw new TunnelStartException(TunnelStartFailure.Unreachable,
                        $"{ex.Message} Gave up after {attempt} attempt{(attempt == 1 ? "" : "s")} (websocket.connect_retry_count is {retries}).", ex);
                }

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
        var link = new TunnelLink(connected.Socket, _logger, _options.Settings.WebSocketMaxFrameSize, pool: _options.BufferPool);
        _link = link;
        _side.AttachLink(link, connected.Version);
        var run = link.RunAsync(DispatchAsync, _lifetime.Token);
        _tasks.Track(run);
        return run;
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

    /// <summary>The link's receive loop hands every message here; past the start, nothing on this path waits.</summary>
    private ValueTask DispatchAsync(Message message, PooledPayload? payload, CancellationToken cancellationToken)
    {
        if (message.Type == Message.Types.Type.ServiceIds)
        {
            payload?.Dispose();
            OnServiceIds(message.AvailableServiceIds.ToList());
            return ValueTask.CompletedTask;
        }

        // Any other first message means the service sent no SERVICE_IDS on this link.
        _serviceIds.TrySetResult(null);
        if (!_ready.Task.IsCompleted)
        {
            return DispatchOnceReadyAsync(message, payload, cancellationToken);
        }

        _side.OnMessage(message, payload);
        return ValueTask.CompletedTask;
    }

    /// <summary>A message that arrives while the session is still starting waits for the services to be configured.</summary>
    private async ValueTask DispatchOnceReadyAsync(Message message, PooledPayload? payload, CancellationToken cancellationToken)
    {
        try
        {
            await _ready.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            payload?.Dispose();
            throw;
        }

        _side.OnMessage(message, payload);
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
            _logger.LogDebug("SERVICE_IDS unchanged: {Services}", ServiceIdList.Describe(ids));
            return;
        }

        string message = $"The tunnel now announces services {ServiceIdList.Describe(ids)}, but this session was started for {ServiceIdList.Describe(known)}.";
        _logger.LogError("{Message} Ending the session.", message);
        Complete(new TunnelEnd(TunnelEndReason.ServiceMismatch, message));
        _tasks.Track(StopLinkAsync());
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

            if (!TryMove(TunnelState.Connected, TunnelState.Reconnecting))
            {
                return; // a stop or an end came first
            }

            _logger.LogWarning("{Reason} Reconnecting.", end.Description);
            var reconnected = await ReconnectAsync().ConfigureAwait(false);
            if (reconnected is null)
            {
                return;
            }

            lock (_linkGate)
            {
                // The link is attached only by this transition, under the lock a stop takes: a stop
                // that raced the reconnect either came first (the new WebSocket is dropped) or
                // will find this link and close it.
                if (!TryMove(TunnelState.Reconnecting, TunnelState.Connected))
                {
                    reconnected.Dispose();
                    return;
                }

                Reconnects++;
                _serviceIds = NewServiceIdsSource();
                run = BeginLink(reconnected);
            }
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
        lock (_linkGate)
        {
            var previous = (TunnelState)Interlocked.Exchange(ref _state, (int)TunnelState.Ended);
            if (previous != TunnelState.Ended)
            {
                Raise(TunnelState.Ended);
            }
        }

        _completion.TrySetResult(end);
    }

    /// <summary>One atomic transition; raises <see cref="StateChanged"/> (off this thread) when it happened.</summary>
    private bool TryMove(TunnelState from, TunnelState to)
    {
        if (Interlocked.CompareExchange(ref _state, (int)to, (int)from) != (int)from)
        {
            return false;
        }

        Raise(to);
        return true;
    }

    /// <summary>Any running state to Stopping; false when the session already ended or is stopping.</summary>
    private bool TryMoveToStopping()
    {
        while (true)
        {
            var current = State;
            if (current is TunnelState.Stopping or TunnelState.Ended)
            {
                return false;
            }

            if (TryMove(current, TunnelState.Stopping))
            {
                return true;
            }
        }
    }

    private void Raise(TunnelState state) => _events.Post(() => StateChanged?.Invoke(this, state));

    private static TaskCompletionSource<IReadOnlyList<string>?> NewServiceIdsSource() =>
        new(TaskCreationOptions.RunContinuationsAsynchronously);
}
