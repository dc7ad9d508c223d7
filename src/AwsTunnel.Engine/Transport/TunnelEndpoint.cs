using AwsTunnel.Engine.Protocol;
using AwsTunnel.Engine.Settings;

namespace AwsTunnel.Engine.Transport;

/// <summary>Works out the service's WebSocket address from a region or an explicit endpoint.</summary>
public static class TunnelEndpoint
{
    /// <summary>
    /// The base URI (scheme, host, port) of the tunneling service. Exactly one of
    /// <paramref name="region"/> and <paramref name="endpoint"/> must be given.
    /// An endpoint may be <c>host</c>, <c>host:port</c> (both wss) or a <c>ws://</c> / <c>wss://</c> URI.
    /// </summary>
    /// <exception cref="ArgumentException">neither or both were given, or the value is malformed.</exception>
    public static Uri Resolve(string? region, string? endpoint, ProxySettings settings)
    {
        bool hasRegion = !string.IsNullOrWhiteSpace(region);
        bool hasEndpoint = !string.IsNullOrWhiteSpace(endpoint);
        if (hasRegion && hasEndpoint)
        {
            throw new ArgumentException("A region and an endpoint were both given; they are mutually exclusive. Give one of them.");
        }

        if (!hasRegion && !hasEndpoint)
        {
            throw new ArgumentException("No region or endpoint was given. Give the region the tunnel was opened in (e.g. us-east-1) or an endpoint.");
        }

        return hasEndpoint ? FromEndpoint(endpoint!.Trim()) : FromRegion(region!.Trim(), settings);
    }

    /// <summary>The service host for a region: override, else the endpoint format (China regions on amazonaws.com.cn).</summary>
    public static Uri FromRegion(string region, ProxySettings settings)
    {
        if (!IsValidRegion(region))
        {
            throw new ArgumentException($"Region '{region}' is not a valid AWS region name. Give a region such as us-east-1 or eu-west-2.");
        }

        if (!settings.RegionEndpointOverrides.TryGetValue(region, out var host))
        {
            host = settings.EndpointFormat.Replace("%s", region, StringComparison.Ordinal);
            if (region.StartsWith("cn-", StringComparison.Ordinal) && host.EndsWith(".amazonaws.com", StringComparison.Ordinal))
            {
                host += ".cn";
            }
        }

        return FromEndpoint(host);
    }

    /// <summary>Parses an explicit endpoint.</summary>
    public static Uri FromEndpoint(string endpoint)
    {
        string text = endpoint.Contains("://", StringComparison.Ordinal) ? endpoint : "wss://" + endpoint;
        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || uri.Scheme is not ("ws" or "wss") || string.IsNullOrEmpty(uri.Host))
        {
            throw new ArgumentException($"Endpoint '{endpoint}' is not valid. Give host, host:port, or a ws:// or wss:// URI.");
        }

        return new UriBuilder(uri.Scheme, uri.Host, uri.Port).Uri;
    }

    /// <summary>The full handshake URI: <c>/tunnel?local-proxy-mode=…</c> on the service.</summary>
    public static Uri HandshakeUri(Uri serviceUri, TunnelMode mode) =>
        new UriBuilder(serviceUri) { Path = "/tunnel", Query = "local-proxy-mode=" + mode.ToWire() }.Uri;

    private static bool IsValidRegion(string region) =>
        region.Length is > 0 and <= 64 &&
        region.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-') &&
        region[0] != '-' && region[^1] != '-';
}
