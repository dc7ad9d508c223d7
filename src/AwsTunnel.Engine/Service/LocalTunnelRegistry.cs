using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace AwsTunnel.Engine.Service;

/// <summary>
/// The tunnels of a local service, open and closed: the one place tunnels are opened (the
/// OpenTunnel API, New-LocalTunnel, the CLI's --tunnel), closed, expired, deleted and have
/// their tokens rotated. Its events tell observers (a device agent, tests) about each change.
/// </summary>
public sealed class LocalTunnelRegistry
{
    private readonly ConcurrentDictionary<string, LocalTunnel> _tunnels = new(StringComparer.Ordinal);
    private readonly LocalTunnelServiceOptions _options;
    private readonly Func<Uri> _endpoint;
    private readonly ILogger _logger;
    private readonly CancellationToken _stopping;

    // Counting open tunnels and adding one must be one step, or two opens could pass the limit together.
    private readonly object _openGate = new();
    private long _sequence;

    internal LocalTunnelRegistry(LocalTunnelServiceOptions options, Func<Uri> endpoint, ILogger logger, CancellationToken stopping)
    {
        _options = options;
        _endpoint = endpoint;
        _logger = logger;
        _stopping = stopping;
    }

    /// <summary>A tunnel was opened. Raised after it is registered, before Open returns.</summary>
    public event EventHandler<LocalTunnelEventArgs>? Opened;

    /// <summary>A tunnel was closed (CloseTunnel, expiry, the service stopping); its proxies are being ended.</summary>
    public event EventHandler<LocalTunnelEventArgs>? Closed;

    /// <summary>RotateTunnelAccessToken gave a tunnel new tokens (see <see cref="LocalTunnelEventArgs.Rotated"/>).</summary>
    public event EventHandler<LocalTunnelEventArgs>? AccessTokensRotated;

    /// <summary>Every tunnel not deleted, open or closed, oldest first.</summary>
    public IReadOnlyList<LocalTunnel> All => _tunnels.Values.OrderBy(t => t.Sequence).ToList();

    /// <summary>How many tunnels are open.</summary>
    public int OpenCount => _tunnels.Values.Count(t => t.IsOpen);

    /// <summary>Opens a tunnel, as OpenTunnel does.</summary>
    /// <exception cref="ArgumentException">a service id is given twice, or the lifetime is not positive.</exception>
    /// <exception cref="TunnelLimitExceededException">the service has its maximum of open tunnels.</exception>
    public LocalTunnel Open(LocalTunnelSpec spec)
    {
        var services = spec.Services.Select(s => s.Trim()).Where(s => s.Length > 0).ToList();
        var duplicate = services.GroupBy(s => s, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            throw new ArgumentException($"Service id '{duplicate.Key}' is given more than once. Give each service once.", nameof(spec));
        }

        var lifetime = spec.Lifetime ?? _options.DefaultTunnelLifetime;
        if (lifetime <= TimeSpan.Zero)
        {
            throw new ArgumentException("A tunnel lifetime must be positive.", nameof(spec));
        }

        LocalTunnel tunnel;
        lock (_openGate)
        {
            if (OpenCount >= _options.MaxOpenTunnels)
            {
                throw new TunnelLimitExceededException(_options.MaxOpenTunnels);
            }

            tunnel = new LocalTunnel(
                Interlocked.Increment(ref _sequence), spec with { Services = services },
                spec.Region ?? _options.Region, _options.AccountId, _endpoint(), lifetime, _logger);
            _tunnels[tunnel.TunnelId] = tunnel;
        }

        _ = ExpireAsync(tunnel);
        _logger.LogInformation("Opened tunnel {TunnelId} with services [{Services}]", tunnel.TunnelId, string.Join(", ", services));
        Raise(Opened, new LocalTunnelEventArgs(tunnel));
        return tunnel;
    }

    /// <summary>Finds a tunnel by id.</summary>
    public LocalTunnel? Find(string tunnelId) => _tunnels.TryGetValue(tunnelId, out var tunnel) ? tunnel : null;

    /// <summary>Finds a tunnel by ARN (the tagging operations name tunnels so).</summary>
    public LocalTunnel? FindByArn(string tunnelArn) => _tunnels.Values.FirstOrDefault(t => t.TunnelArn == tunnelArn);

    /// <summary>Closes a tunnel: its proxies see a normal close, so they exit 0. Closing a closed tunnel does nothing.</summary>
    public async Task CloseAsync(LocalTunnel tunnel, string reason)
    {
        if (await tunnel.CloseAsync(reason).ConfigureAwait(false))
        {
            Raise(Closed, new LocalTunnelEventArgs(tunnel, reason: reason));
        }
    }

    /// <summary>Closes a tunnel and forgets it (CloseTunnel with delete): later calls do not find it.</summary>
    public async Task DeleteAsync(LocalTunnel tunnel, string reason)
    {
        await CloseAsync(tunnel, reason).ConfigureAwait(false);
        _tunnels.TryRemove(tunnel.TunnelId, out _);
    }

    /// <summary>
    /// Gives a tunnel new tokens for <paramref name="mode"/>; proxies connected with the old ones
    /// are disconnected and refused when they come back. False when the tunnel is closed.
    /// </summary>
    public bool RotateAccessTokens(LocalTunnel tunnel, TunnelClientMode mode, string? thingName = null)
    {
        if (!tunnel.RotateTokens(mode, thingName))
        {
            return false;
        }

        Raise(AccessTokensRotated, new LocalTunnelEventArgs(tunnel, rotated: mode));
        return true;
    }

    internal Task CloseAllAsync(string reason) => Task.WhenAll(_tunnels.Values.Select(t => CloseAsync(t, reason)));

    private async Task ExpireAsync(LocalTunnel tunnel)
    {
        try
        {
            // Task.Delay takes at most ~24.8 days; a longer lifetime is not a test's concern.
            var delay = tunnel.Lifetime > TimeSpan.FromDays(24) ? TimeSpan.FromDays(24) : tunnel.Lifetime;
            using (var timer = CancellationTokenSource.CreateLinkedTokenSource(_stopping))
            {
                await Task.WhenAny(Task.Delay(delay, timer.Token), tunnel.Closed).ConfigureAwait(false);

                // A tunnel closed early leaves no timer behind.
                timer.Cancel();
            }

            if (!_stopping.IsCancellationRequested)
            {
                await CloseAsync(tunnel, "the tunnel expired").ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    // An observer's failure must not fail the API call or the tunnel that raised the event.
    private void Raise(EventHandler<LocalTunnelEventArgs>? handlers, LocalTunnelEventArgs args)
    {
        if (handlers is null)
        {
            return;
        }

        foreach (EventHandler<LocalTunnelEventArgs> handler in handlers.GetInvocationList())
        {
            try
            {
                handler(this, args);
            }
            catch (Exception ex)
            {
                _logger.LogWarning(ex, "A tunnel event observer failed on tunnel {TunnelId}", args.Tunnel.TunnelId);
            }
        }
    }
}
