using AwsTunnel.Engine.Protocol;
using Microsoft.Extensions.Logging;

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
    /// <param name="logger">Hears how an unnamed mapping was applied to a tunnel with several services; null = none.</param>
    /// <exception cref="TunnelStartException">the sets do not match; the message lists both.</exception>
    public static IReadOnlyDictionary<string, ServiceMapping> Resolve(
        TunnelMode mode, IReadOnlyList<ServiceMapping> local, IReadOnlyList<string>? announced, ILogger? logger = null)
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
            return ResolveUnnamed(mode, local[0], announced, logger);
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

    /// <summary>
    /// One mapping without a service id (<c>-s 5555</c>, <c>-d 22</c>), as the reference uses it. With one
    /// announced service it is that service's. With several, a destination sends every service's
    /// streams to that target (the reference's destination fills in the service id it was started
    /// with); a source listens there for the first announced service, because a stream it started
    /// without a service id could not be routed, and picks free ports for the others.
    /// </summary>
    private static Dictionary<string, ServiceMapping> ResolveUnnamed(
        TunnelMode mode, ServiceMapping unnamed, IReadOnlyList<string> announced, ILogger? logger)
    {
        var result = new Dictionary<string, ServiceMapping>(StringComparer.Ordinal);
        if (announced.Count == 1)
        {
            result[announced[0]] = unnamed with { ServiceId = announced[0] };
            return result;
        }

        if (mode == TunnelMode.Destination)
        {
            foreach (var id in announced)
            {
                result[id] = unnamed with { ServiceId = id };
            }

            logger?.LogWarning("The target {Target} names no service, and the tunnel has services {Services}: every one of them goes to it. Name each, e.g. {Example}=HOST:PORT, to tell them apart.",
                unnamed, ServiceIdList.Describe(announced), announced[0]);
            return result;
        }

        result[announced[0]] = unnamed with { ServiceId = announced[0] };
        foreach (var id in announced.Skip(1))
        {
            result[id] = new ServiceMapping(id, null, 0);
        }

        logger?.LogWarning("The port {Port} names no service, and the tunnel has services {Services}: it serves {First}; the others get free ports. Name each, e.g. {Example}, to choose.",
            unnamed.Port, ServiceIdList.Describe(announced), announced[0], $"{announced[0]}={unnamed.Port}");
        return result;
    }

    private static TunnelStartException Mismatch(IReadOnlyList<string> announced, IReadOnlyList<ServiceMapping> local, string detail) =>
        new(TunnelStartFailure.ServiceMismatch,
            $"Service ids do not match: the tunnel was opened with {ServiceIdList.Describe(announced)}; the local mapping has {ServiceIdList.Describe(local.Select(m => m.IsUnnamed ? m.ToString() : m.ServiceId))}. {detail}");
}
