using AwsTunnel.Engine.Tunnel;

namespace AwsTunnel.Engine.Agent;

/// <summary>
/// The agent's default targets for service names that mean one thing everywhere, on this
/// machine: SSH → 22, VNC → 5900, RDP → 3389, HTTP → 80, HTTPS → 443 (names match whole and
/// ignoring case; SSH1 is not SSH). AWS IoT Device Client maps SSH and VNC the same way.
/// A mapping the user gives always wins.
/// </summary>
public static class WellKnownServices
{
    /// <summary>The default port per well-known service name.</summary>
    public static IReadOnlyDictionary<string, int> Ports { get; } = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase)
    {
        ["SSH"] = 22,
        ["VNC"] = 5900,
        ["RDP"] = 3389,
        ["HTTP"] = 80,
        ["HTTPS"] = 443,
    };

    /// <summary>The table as one line, for help texts and logs: <c>SSH=22, VNC=5900, …</c>.</summary>
    public static string Describe() => string.Join(", ", Ports.Select(p => $"{p.Key}={p.Value}"));

    /// <summary>
    /// The target for <paramref name="serviceId"/>: the user's mapping for that exact id, else the
    /// well-known port on localhost, else null (the agent cannot serve the service).
    /// </summary>
    public static ServiceMapping? Resolve(string serviceId, IReadOnlyList<ServiceMapping> userMappings)
    {
        var given = userMappings.FirstOrDefault(m => string.Equals(m.ServiceId, serviceId, StringComparison.Ordinal));
        if (given is not null)
        {
            return given;
        }

        return Ports.TryGetValue(serviceId, out int port) ? new ServiceMapping(serviceId, "localhost", port) : null;
    }
}
