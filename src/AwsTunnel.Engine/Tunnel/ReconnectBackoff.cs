namespace AwsTunnel.Engine.Tunnel;

/// <summary>
/// Delays between reconnect attempts: the configured <c>websocket.retry_delay_ms</c> after a
/// network loss; after a 5xx from the service, that delay doubled per consecutive 5xx (capped)
/// with ±20 % jitter, so many proxies do not hammer a recovering service in step.
/// </summary>
internal sealed class ReconnectBackoff
{
    private static readonly TimeSpan Cap = TimeSpan.FromSeconds(60);
    private readonly TimeSpan _base;
    private readonly Random _random;
    private int _serverErrors;

    public ReconnectBackoff(int retryDelayMs, Random? random = null)
    {
        _base = TimeSpan.FromMilliseconds(Math.Max(0, retryDelayMs));
        _random = random ?? Random.Shared;
    }

    /// <summary>The delay before the next attempt.</summary>
    public TimeSpan Next()
    {
        if (_serverErrors == 0)
        {
            return _base;
        }

        double factor = Math.Pow(2, Math.Min(_serverErrors - 1, 16));
        double ms = Math.Min(_base.TotalMilliseconds * factor, Cap.TotalMilliseconds);
        double jitter = 0.8 + (_random.NextDouble() * 0.4);
        return TimeSpan.FromMilliseconds(ms * jitter);
    }

    /// <summary>An attempt failed with a 5xx.</summary>
    public void ServerError() => _serverErrors++;

    /// <summary>An attempt failed without a response (network, TLS).</summary>
    public void NetworkError() => _serverErrors = 0;
}
