using System.Globalization;
using System.Net;

namespace AwsTunnel.Engine.Tunnel;

/// <summary>
/// One service of a tunnel mapped to a local end point: for a source the port to listen on
/// (0 = any free port), for a destination the host and port to connect to.
/// An empty <see cref="ServiceId"/> is the single unnamed service of a V1 tunnel or a bare
/// <c>-s 5555</c> / <c>-d 22</c> given for a one-service tunnel.
/// </summary>
public sealed record ServiceMapping(string ServiceId, string? Host, int Port)
{
    /// <summary>True when no service id was given.</summary>
    public bool IsUnnamed => ServiceId.Length == 0;

    /// <summary><c>SSH1=host:port</c>, <c>SSH1=port</c> or <c>port</c>.</summary>
    public override string ToString()
    {
        string target = Host is null ? Port.ToString(CultureInfo.InvariantCulture) : FormatHostPort(Host, Port);
        return IsUnnamed ? target : $"{ServiceId}={target}";
    }

    /// <summary>Formats a host and port, bracketing IPv6 literals.</summary>
    public static string FormatHostPort(string host, int port) =>
        host.Contains(':') ? $"[{host}]:{port}" : $"{host}:{port}";

    /// <summary>
    /// Parses a comma-separated list of mappings, e.g. <c>SSH1=5555,HTTP=8080</c>,
    /// <c>SSH1=10.0.0.1:22</c>, <c>22</c>, <c>[::1]:22</c>.
    /// </summary>
    /// <exception cref="FormatException">an entry is malformed; the message names it and the fix.</exception>
    public static IReadOnlyList<ServiceMapping> ParseList(string text, string inputName)
    {
        var result = new List<ServiceMapping>();
        foreach (var entry in text.Split(',', StringSplitOptions.TrimEntries))
        {
            if (entry.Length == 0)
            {
                throw new FormatException($"{inputName} '{text}' has an empty entry. Write entries as SERVICE=PORT or SERVICE=HOST:PORT separated by commas.");
            }

            result.Add(Parse(entry, inputName));
        }

        EnsureUnique(result, inputName);
        return result;
    }

    /// <summary>Parses one mapping entry.</summary>
    /// <exception cref="FormatException">the entry is malformed; the message names it and the fix.</exception>
    public static ServiceMapping Parse(string entry, string inputName)
    {
        string serviceId = string.Empty;
        string target = entry.Trim();
        int eq = target.IndexOf('=');
        if (eq >= 0)
        {
            serviceId = target[..eq].Trim();
            target = target[(eq + 1)..].Trim();
            if (serviceId.Length == 0)
            {
                throw new FormatException($"{inputName} entry '{entry}' has no service id before '='. Write it as SERVICE=PORT, e.g. SSH1=5555.");
            }

            if (target.Length == 0)
            {
                throw new FormatException($"{inputName} entry '{entry}' has no port after '='. Write it as SERVICE=PORT or SERVICE=HOST:PORT, e.g. {serviceId}=22.");
            }
        }

        var (host, port) = ParseTarget(target, entry, inputName);
        return new ServiceMapping(serviceId, host, port);
    }

    /// <summary>Parses <c>port</c>, <c>host:port</c>, <c>[v6]:port</c>.</summary>
    public static (string? Host, int Port) ParseTarget(string target, string entry, string inputName)
    {
        string? host = null;
        string portText = target;
        if (target.StartsWith('['))
        {
            int close = target.IndexOf(']');
            if (close < 0 || close + 1 >= target.Length || target[close + 1] != ':')
            {
                throw new FormatException($"{inputName} entry '{entry}' has a malformed IPv6 address. Write it as [ADDRESS]:PORT, e.g. [::1]:22.");
            }

            host = target[1..close];
            portText = target[(close + 2)..];
            if (!IPAddress.TryParse(host, out _))
            {
                throw new FormatException($"{inputName} entry '{entry}': '{host}' is not an IPv6 address. Write it as [ADDRESS]:PORT, e.g. [::1]:22.");
            }
        }
        else
        {
            int colon = target.LastIndexOf(':');
            if (colon >= 0)
            {
                if (target.IndexOf(':') != colon)
                {
                    throw new FormatException($"{inputName} entry '{entry}' looks like a bare IPv6 address. Put it in brackets: [ADDRESS]:PORT, e.g. [::1]:22.");
                }

                host = target[..colon];
                portText = target[(colon + 1)..];
                if (host.Length == 0 || Uri.CheckHostName(host) == UriHostNameType.Unknown)
                {
                    throw new FormatException($"{inputName} entry '{entry}' has an invalid host '{host}'. Give a host name or IP address, e.g. 10.0.0.1:22.");
                }
            }
        }

        if (!int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out int port) || port > 65535)
        {
            throw new FormatException($"{inputName} entry '{entry}' has an invalid port '{portText}'. A port is a whole number from 0 to 65535.");
        }

        return (host, port);
    }

    private static void EnsureUnique(List<ServiceMapping> mappings, string inputName)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var mapping in mappings)
        {
            if (!seen.Add(mapping.ServiceId))
            {
                string what = mapping.IsUnnamed ? "more than one unnamed entry" : $"service id '{mapping.ServiceId}' more than once";
                throw new FormatException($"{inputName} names {what}. Give each service exactly one mapping.");
            }
        }
    }
}
