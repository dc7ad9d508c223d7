namespace AwsTunnel.Engine.Agent;

/// <summary>
/// Delays between broker reconnect attempts: the first delay, doubled after every failed
/// attempt up to a cap, each with ±20 % jitter so a fleet of devices that lost the same broker
/// does not come back in step. A new outage starts again from the first delay.
/// </summary>
internal sealed class BrokerBackoff
{
    private readonly TimeSpan _first;
    private readonly TimeSpan _cap;
    private readonly Random _random;
    private int _failures;

    public BrokerBackoff(TimeSpan first, TimeSpan cap, Random? random = null)
    {
        _first = first;
        _cap = cap;
        _random = random ?? Random.Shared;
    }

    /// <summary>The delay before the next attempt; each call counts one more failed attempt.</summary>
    public TimeSpan Next()
    {
        double factor = Math.Pow(2, Math.Min(_failures, 20));
        _failures++;
        double ms = Math.Min(_first.TotalMilliseconds * factor, _cap.TotalMilliseconds);
        return TimeSpan.FromMilliseconds(ms * (0.8 + (_random.NextDouble() * 0.4)));
    }
}
