using AwsTunnel.Engine.Protocol;

namespace AwsTunnel.Engine.Tunnel;

/// <summary>
/// Matches the local service mappings against the service ids the tunnel announced in
/// SERVICE_IDS. Names and count must agree; a source picks free ports for announced
/// services it has no mapping for; a destination must have a target for every one.
/// </summary>
public static class ServiceResolution
{
    /// <summary>The mappings to use, keyed by the service id on the wire ("" = the single V1 stream).</summary>
    /// <param name="mode">Source or destination: only a source may leave services unmapped.</param>
    /// <param name="local">The mappings given by the user.</param>
    /// <param name="announced">The SERVICE_IDS list; null when the service sent none (V1).</param>
    /// <exception cref="TunnelStartException">the sets do not match; the message lists both.</exception>
    public static IReadOnlyDictionary<string, ServiceMapping> Resolve(
        TunnelMode mode, IReadOnlyList<ServiceMapping> local, IReadOnlyList<string>? announced)
    {
        var result = new Dictionary<string, ServiceMapping>(StringComparer.Ordinal);
        if (announced is null || announced.Count == 0)
        {
            if (local.Count > 1)
            {
                throw Mismatch(announced ?? Array.Empty<string>(), local,
                    "The tunnel has no service ids (a single-stream V1 tunnel), so give exactly one mapping.");
            }

            result[string.Empty] = local.Count == 1 ? local[0] with { ServiceId = string.Empty } : new ServiceMapping(string.Empty, null, 0);
            return result;
        }

        if (local.Count == 1 && local[0].IsUnnamed)
        {
            if (announced.Count != 1)
            {
                throw Mismatch(announced, local,
                    "A mapping without a service id only fits a tunnel with one service. Name each service, e.g. SSH1=5555.");
            }

            result[announced[0]] = local[0] with { ServiceId = announced[0] };
            return result;
        }

        if (local.Any(m => m.IsUnnamed))
        {
            throw Mismatch(announced, local, "Every mapping needs a service id when the tunnel has several services.");
        }

        var unknown = local.Where(m => !announced.Contains(m.ServiceId, StringComparer.Ordinal)).ToList();
        if (unknown.Count > 0)
        {
            throw Mismatch(announced, local,
                $"The tunnel was not opened with {string.Join(", ", unknown.Select(m => m.ServiceId))}.");
        }

        foreach (var id in announced)
        {
            var mapping = local.FirstOrDefault(m => m.ServiceId == id);
            if (mapping is null)
            {
                if (mode == TunnelMode.Destination)
                {
                    throw Mismatch(announced, local, $"The destination has no target for {id}. Give {id}=HOST:PORT.");
                }

                mapping = new ServiceMapping(id, null, 0);
            }

            result[id] = mapping;
        }

        return result;
    }

    private static TunnelStartException Mismatch(IReadOnlyList<string> announced, IReadOnlyList<ServiceMapping> local, string detail) =>
        new(TunnelStartFailure.ServiceMismatch,
            $"Service ids do not match: the tunnel was opened with [{string.Join(", ", announced)}]; the local mapping has [{string.Join(", ", local.Select(m => m.IsUnnamed ? m.ToString() : m.ServiceId))}]. {detail}");
}
