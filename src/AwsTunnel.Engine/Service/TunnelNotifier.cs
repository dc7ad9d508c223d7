using AwsTunnel.Engine.Agent;
using Microsoft.Extensions.Logging;

namespace AwsTunnel.Engine.Service;

/// <summary>
/// Makes the local tunneling service behave as AWS IoT does for a device: when a tunnel is
/// opened for a thing (destinationConfig.thingName), or its destination token is rotated, the
/// destination's notification is published on <c>$aws/things/THING/tunnels/notify</c>. The
/// payload has AWS's fields plus the tunnel id. Tokens go into payloads, never into the log.
/// </summary>
public sealed class TunnelNotifier : IAsyncDisposable
{
    private static readonly TimeSpan PublishBudget = TimeSpan.FromSeconds(15);

    private readonly LocalTunnelRegistry _registry;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();
    private readonly object _pendingGate = new();
    private Task _pending = Task.CompletedTask;
    private int _published;

    public TunnelNotifier(LocalTunnelRegistry registry, INotificationPublisher publisher, ILogger logger)
    {
        _registry = registry;
        Publisher = publisher;
        _logger = logger;
        registry.Opened += OnOpened;
        registry.AccessTokensRotated += OnRotated;
    }

    /// <summary>Where notifications go.</summary>
    public INotificationPublisher Publisher { get; }

    /// <summary>How many notifications were published.</summary>
    public int Published => Volatile.Read(ref _published);

    /// <summary>Stops publishing (notifications still queued are dropped: the service is going away) and releases the publisher.</summary>
    public async ValueTask DisposeAsync()
    {
        _registry.Opened -= OnOpened;
        _registry.AccessTokensRotated -= OnRotated;
        _stopping.Cancel();
        Task pending;
        lock (_pendingGate)
        {
            pending = _pending;
        }

        await pending.ConfigureAwait(false);
        await Publisher.DisposeAsync().ConfigureAwait(false);
    }

    private void OnOpened(object? sender, LocalTunnelEventArgs e) => Notify(e.Tunnel, "opened");

    private void OnRotated(object? sender, LocalTunnelEventArgs e)
    {
        if (e.Rotated is TunnelClientMode.Destination or TunnelClientMode.All)
        {
            Notify(e.Tunnel, "given a new destination token");
        }
    }

    private void Notify(LocalTunnel tunnel, string what)
    {
        if (tunnel.ThingName is not { Length: > 0 } thing)
        {
            return;
        }

        // Read now: a later rotation must not change what this notification carries.
        byte[] payload = TunnelNotification.Format(tunnel.DestinationAccessToken, tunnel.Region, tunnel.Services, tunnel.TunnelId);
        string topic = TunnelNotification.TopicFor(thing);

        // In order, one at a time, off the caller's thread: OpenTunnel must not wait for a broker.
        lock (_pendingGate)
        {
            _pending = _pending.ContinueWith(_ => PublishAsync(tunnel.TunnelId, what, topic, payload), CancellationToken.None,
                TaskContinuationOptions.None, TaskScheduler.Default).Unwrap();
        }
    }

    private async Task PublishAsync(string tunnelId, string what, string topic, byte[] payload)
    {
        using var budget = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
        budget.CancelAfter(PublishBudget);
        try
        {
            await Publisher.PublishAsync(topic, payload, budget.Token).ConfigureAwait(false);
            Interlocked.Increment(ref _published);
            _logger.LogInformation("Tunnel {TunnelId} was {What}: notified {Topic} on {Broker}.", tunnelId, what, topic, Publisher.BrokerUri);
        }
        catch (Exception ex)
        {
            _logger.LogWarning("Tunnel {TunnelId} was {What}, but its notification to {Topic} on {Broker} failed: {Reason}",
                tunnelId, what, topic, Publisher.BrokerUri, ex.Message);
        }
    }
}
