using System.Buffers;
using System.Security.Cryptography;
using System.Threading.Channels;
using AwsTunnel.Engine.Protocol;
using AwsTunnel.Engine.Tunnel;
using Microsoft.Extensions.Logging;

namespace AwsTunnel.Engine.Agent;

/// <summary>
/// The device side of AWS IoT Secure Tunneling: watches the thing's notify topic and starts a
/// destination session for every tunnel opened for it, with the targets given (or the
/// well-known defaults). A repeated notification for a tunnel already served changes nothing;
/// a new token for it (a rotation) replaces its destination. At most
/// <see cref="AgentOptions.MaxTunnels"/> tunnels are served at once. Payloads that are not
/// usable destination notifications are logged (never with their token) and skipped. Losing the
/// broker does not touch running tunnels; the agent reconnects and subscribes again.
/// </summary>
public sealed class TunnelAgent : IAsyncDisposable
{
    private readonly AgentOptions _options;
    private readonly ILogger _logger;
    private readonly NotifySubscription _subscription;
    private readonly Channel<TunnelNotification> _notifications = Channel.CreateUnbounded<TunnelNotification>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Dictionary<string, AgentTunnel> _tunnels = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _lifetime = new();
    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task _processing = Task.CompletedTask;
    private int _started;
    private int _stopping;
    private int _received;
    private int _skipped;

    // One task a served tunnel, watching for its destination's end; awaited by StopAsync.
    private readonly List<Task> _watchers = new();

    public TunnelAgent(AgentOptions options)
    {
        options.Validate();
        _options = options;
        _logger = options.LoggerFactory.CreateLogger("AwsTunnel.Agent");
        _subscription = new NotifySubscription(options, _logger, OnPayload);
        _subscription.ConnectionChanged += (_, connected) => BrokerConnectionChanged?.Invoke(this, connected);
    }

    /// <summary>A destination started for a notification.</summary>
    public event EventHandler<AgentTunnel>? TunnelStarted;

    /// <summary>A destination ended: its tunnel closed, it was replaced by a rotation, or the agent stopped.</summary>
    public event EventHandler<AgentTunnel>? TunnelEnded;

    /// <summary>The broker connection came up (true) or was lost (false).</summary>
    public event EventHandler<bool>? BrokerConnectionChanged;

    /// <summary>The thing whose notifications are served.</summary>
    public string ThingName => _options.ThingName;

    /// <summary>The broker.</summary>
    public BrokerAddress Broker => _options.Broker;

    /// <summary>The topic watched.</summary>
    public string NotifyTopic => _options.NotifyTopic;

    /// <summary>True while connected to the broker and subscribed.</summary>
    public bool IsBrokerConnected => _subscription.IsConnected;

    /// <summary>How many times the notify topic was subscribed (one more per broker reconnect).</summary>
    public int Subscriptions => _subscription.Subscriptions;

    /// <summary>Notifications received on the topic.</summary>
    public int NotificationsReceived => Volatile.Read(ref _received);

    /// <summary>Notifications skipped: unusable payloads, unknown services, over the cap, failed starts.</summary>
    public int NotificationsSkipped => Volatile.Read(ref _skipped);

    /// <summary>The tunnels served now.</summary>
    public IReadOnlyList<AgentTunnel> Tunnels
    {
        get
        {
            lock (_tunnels)
            {
                return _tunnels.Values.OrderBy(t => t.StartedAt).ToArray();
            }
        }
    }

    /// <summary>Completes once the agent has stopped and every destination it started has ended.</summary>
    public Task Completion => _completion.Task;

    /// <summary>Connects to the broker and subscribes; returns once notifications can arrive.</summary>
    /// <exception cref="AgentStartException">the broker refused the agent or was not reachable within the start timeout.</exception>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        if (Interlocked.Exchange(ref _started, 1) != 0)
        {
            throw new InvalidOperationException("The agent was already started.");
        }

        _logger.LogInformation("Tunnel agent for thing '{Thing}': broker {Broker}, topic {Topic}, at most {Max} tunnels, targets: {Targets}.",
            _options.ThingName, _options.Broker, _options.NotifyTopic, _options.MaxTunnels, DescribeTargets());
        _processing = ProcessAsync();
        try
        {
            await _subscription.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (BrokerRefusedException ex)
        {
            await StopAsync().ConfigureAwait(false);
            throw new AgentStartException(ex.Message, ex.InnerException);
        }
        catch (Exception)
        {
            await StopAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Disconnects from the broker and stops every destination the agent started.</summary>
    public async Task StopAsync()
    {
        if (Interlocked.Exchange(ref _stopping, 1) != 0)
        {
            await _completion.Task.ConfigureAwait(false);
            return;
        }

        _lifetime.Cancel();
        _notifications.Writer.TryComplete();
        await _subscription.DisposeAsync().ConfigureAwait(false);
        await _processing.ConfigureAwait(false);
        var running = Tunnels;
        await Task.WhenAll(running.Select(t => t.Client.StopAsync())).ConfigureAwait(false);
        await Task.WhenAll(running.Select(t => t.Client.DisposeAsync().AsTask())).ConfigureAwait(false);

        // Every destination's end is reported (TunnelEnded) before the stop returns.
        Task[] watching;
        lock (_watchers)
        {
            watching = _watchers.ToArray();
        }

        await Task.WhenAll(watching).ConfigureAwait(false);
        _logger.LogInformation("Tunnel agent for thing '{Thing}' stopped ({Count} destinations stopped).", _options.ThingName, running.Count);
        _completion.TrySetResult();
    }

    public async ValueTask DisposeAsync() => await StopAsync().ConfigureAwait(false);

    /// <summary>Called by the MQTT client for every payload on the notify topic.</summary>
    private void OnPayload(ReadOnlySequence<byte> payload)
    {
        Interlocked.Increment(ref _received);
        var notification = TunnelNotification.TryParse(payload, out string? problem);
        if (notification is null)
        {
            Skip("Skipped a notification on {Topic}: {Problem}.", _options.NotifyTopic, problem);
            return;
        }

        _logger.LogDebug("Notification received for {Tunnel}.", notification);
        if (!_notifications.Writer.TryWrite(notification))
        {
            _logger.LogDebug("Dropped a notification for {Tunnel}: the agent is stopping.", notification);
        }
    }

    /// <summary>One notification at a time, so a repeat or rotation always sees the tunnel its predecessor started.</summary>
    private async Task ProcessAsync()
    {
        try
        {
            await foreach (var notification in _notifications.Reader.ReadAllAsync(_lifetime.Token).ConfigureAwait(false))
            {
                try
                {
                    await HandleAsync(notification).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    // A bug in one notification's handling must not stop the device from serving the next.
                    Skip("Failed to handle the notification for {Tunnel}: {Reason}", notification, ex.Message);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Stopping.
        }
    }

    private async Task HandleAsync(TunnelNotification notification)
    {
        var targets = new List<ServiceMapping>();
        var unknown = new List<string>();
        foreach (var id in notification.Services)
        {
            if (WellKnownServices.Resolve(id, _options.Services) is { } target)
            {
                targets.Add(target);
            }
            else
            {
                unknown.Add(TunnelNotification.Printable(id));
            }
        }

        if (unknown.Count > 0)
        {
            Skip("Skipped the notification for {Tunnel}: no target for {Services}. Give a target per service, e.g. {Example}=HOST:PORT (defaults exist only for {WellKnown}).",
                notification, string.Join(", ", unknown), unknown[0], WellKnownServices.Describe());
            return;
        }

        Uri serviceUri;
        try
        {
            serviceUri = _options.TunnelEndpoint ?? Transport.TunnelEndpoint.FromRegion(notification.Region, _options.Settings);
        }
        catch (ArgumentException ex)
        {
            Skip("Skipped the notification for {Tunnel}: {Reason}", notification, ex.Message);
            return;
        }

        AgentTunnel? previous;
        int serving;
        lock (_tunnels)
        {
            _tunnels.TryGetValue(notification.Key, out previous);
            serving = _tunnels.Count;
        }

        if (previous is not null)
        {
            if (previous.Client.State != TunnelState.Ended &&
                CryptographicOperations.FixedTimeEquals(previous.Notification.TokenFingerprint, notification.TokenFingerprint))
            {
                _logger.LogInformation("Already serving {Tunnel} with this access token; the repeated notification changes nothing.", notification);
                return;
            }

            _logger.LogInformation("Replacing the destination for {Tunnel}: the notification carries a new access token (rotated).", notification);
            await EndAsync(previous).ConfigureAwait(false);
            serving--;
        }

        if (serving >= _options.MaxTunnels)
        {
            Skip("Skipped the notification for {Tunnel}: already serving {Count} tunnels, the most allowed. Close a tunnel, or raise the cap (MaxTunnels).",
                notification, serving);
            return;
        }

        await StartDestinationAsync(notification, targets, serviceUri).ConfigureAwait(false);
    }

    private async Task StartDestinationAsync(TunnelNotification notification, IReadOnlyList<ServiceMapping> targets, Uri serviceUri)
    {
        TunnelClient client;
        try
        {
            client = new TunnelClient(new TunnelOptions
            {
                Mode = TunnelMode.Destination,
                ServiceUri = serviceUri,
                AccessToken = notification.AccessToken,
                Services = targets,
                CertificateAuthorityPath = _options.CertificateAuthorityPath,
                TrustedCertificates = _options.TrustedCertificates,
                SkipCertificateCheck = _options.SkipCertificateCheck,
                WebProxy = _options.WebProxy,
                Settings = _options.Settings,
                StartTimeout = _options.StartTimeout,
                LoggerFactory = _options.DestinationLoggerFactory?.Invoke(notification) ?? _options.LoggerFactory,
            });
        }
        catch (ArgumentException ex)
        {
            Skip("Skipped the notification for {Tunnel}: {Reason}", notification, ex.Message);
            return;
        }

        _logger.LogInformation("Starting the destination for {Tunnel} on {Endpoint}: {Targets}.",
            notification, serviceUri, string.Join(", ", targets));
        try
        {
            await client.StartAsync(_lifetime.Token).ConfigureAwait(false);
        }
        catch (TunnelStartException ex)
        {
            await client.DisposeAsync().ConfigureAwait(false);
            Skip("Could not start the destination for {Tunnel}: {Reason}", notification, ex.Message);
            return;
        }
        catch (OperationCanceledException)
        {
            await client.DisposeAsync().ConfigureAwait(false);
            return;
        }

        var tunnel = new AgentTunnel(notification, client, targets);
        lock (_tunnels)
        {
            _tunnels[notification.Key] = tunnel;
        }

        _logger.LogInformation("Serving {Tunnel}: destination connected over {Protocol}.", notification, client.Protocol);
        TunnelStarted?.Invoke(this, tunnel);
        var watch = WatchAsync(tunnel);
        lock (_watchers)
        {
            _watchers.RemoveAll(w => w.IsCompleted);
            _watchers.Add(watch);
        }
    }

    /// <summary>Forgets a tunnel when its destination ends by itself (tunnel closed, token rejected).</summary>
    private async Task WatchAsync(AgentTunnel tunnel)
    {
        var end = await tunnel.Client.Completion.ConfigureAwait(false);
        bool removed;
        lock (_tunnels)
        {
            removed = _tunnels.TryGetValue(tunnel.Key, out var current) && ReferenceEquals(current, tunnel) && _tunnels.Remove(tunnel.Key);
        }

        if (removed || Volatile.Read(ref _stopping) != 0)
        {
            _logger.Log(end.IsSuccess ? LogLevel.Information : LogLevel.Warning, "The destination for {Tunnel} ended: {Reason}", tunnel, end.Message);
        }

        try
        {
            TunnelEnded?.Invoke(this, tunnel);
        }
        catch (Exception ex)
        {
            _logger.LogWarning(ex, "A TunnelEnded handler failed for {Tunnel}.", tunnel);
        }
    }

    private async Task EndAsync(AgentTunnel tunnel)
    {
        lock (_tunnels)
        {
            if (_tunnels.TryGetValue(tunnel.Key, out var current) && ReferenceEquals(current, tunnel))
            {
                _tunnels.Remove(tunnel.Key);
            }
        }

        await tunnel.Client.StopAsync().ConfigureAwait(false);
        await tunnel.Client.DisposeAsync().ConfigureAwait(false);
    }

    private void Skip(string message, params object?[] args)
    {
        // Logged before it is counted, so whoever sees the count can find the line.
        _logger.LogWarning(message, args);
        Interlocked.Increment(ref _skipped);
    }

    private string DescribeTargets()
    {
        string given = _options.Services.Count == 0 ? "none given" : string.Join(", ", _options.Services);
        return $"{given}; defaults {WellKnownServices.Describe()}";
    }
}
