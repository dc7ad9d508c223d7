using System.Globalization;
using System.Net;
using AwsTunnel.Engine.Settings;
using Microsoft.Extensions.Logging;

namespace AwsTunnel.Engine.Transport;

/// <summary>
/// Turns a web proxy URL such as <c>HTTPS_PROXY=http://user:pass@host:port</c> into an
/// <see cref="IWebProxy"/> for <see cref="Tunnel.TunnelOptions.WebProxy"/>; the WebSocket then goes
/// through the proxy with HTTP CONNECT. As in the reference proxy: the scheme is <c>http</c>
/// (plain connection to the proxy) or <c>https</c> (TLS to the proxy) and defaults to <c>http</c>
/// when left out; user and password are percent-decoded and sent as Basic authentication;
/// a missing port means <see cref="DefaultPort"/>. Credentials are never part of a description
/// or an error message.
/// </summary>
public static class WebProxyResolver
{
    /// <summary>The port used when the URL names none (the reference proxy's choice, squid's port).</summary>
    public const int DefaultPort = 3128;

    private const string ExpectedForm = "http://[USER:PASSWORD@]HOST[:PORT] or https://[USER:PASSWORD@]HOST[:PORT] (percent-encode special characters in USER and PASSWORD)";

    /// <summary>The web proxy named by the environment (<c>https_proxy</c>, else <c>HTTPS_PROXY</c>), or null for a direct connection.</summary>
    /// <exception cref="ArgumentException">the variable is not a proxy URL; the message names the variable, not its value.</exception>
    public static IWebProxy? FromEnvironment(TunnelEnvironment environment, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(environment);
        return environment.HttpsProxy is null ? null : Create(environment.HttpsProxy, environment.HttpsProxyVariable ?? TunnelEnvironment.HttpsProxyUpperVariable, logger);
    }

    /// <summary>
    /// The web proxy by the one precedence both front ends use: an explicitly given proxy, else
    /// none when a direct connection was asked for, else the environment (<c>https_proxy</c>, then <c>HTTPS_PROXY</c>).
    /// </summary>
    /// <param name="explicitProxy">A proxy the user gave (e.g. <c>-Proxy</c>); null = none.</param>
    /// <param name="credential">Basic-authentication credentials for <paramref name="explicitProxy"/>; null = none.</param>
    /// <param name="direct">Connect directly, ignoring the environment (e.g. <c>-NoProxy</c>).</param>
    /// <param name="environment">The variables to fall back to.</param>
    /// <param name="logger">Receives a warning when the environment's URL names no port; null = none.</param>
    /// <exception cref="ArgumentException">the proxy address or the variable is malformed; the message names it, never a password.</exception>
    public static IWebProxy? Resolve(Uri? explicitProxy, NetworkCredential? credential, bool direct, TunnelEnvironment environment, ILogger? logger = null)
    {
        if (explicitProxy is not null)
        {
            return Create(explicitProxy, credential);
        }

        return direct ? null : FromEnvironment(environment, logger);
    }

    /// <summary>Builds a proxy from a URL.</summary>
    /// <param name="proxyUrl">The URL; it may hold a password, so it is never echoed.</param>
    /// <param name="variableName">Names the input in errors, e.g. <c>HTTPS_PROXY</c> or <c>-Proxy</c>.</param>
    /// <param name="logger">Receives a warning when the port is left out; null = none.</param>
    /// <exception cref="ArgumentException">the URL is malformed; the message names <paramref name="variableName"/> and the expected form.</exception>
    public static IWebProxy Create(string proxyUrl, string variableName = "the web proxy URL", ILogger? logger = null)
    {
        var (address, credential, portGiven) = Parse(proxyUrl, variableName);
        if (!portGiven)
        {
            logger?.LogWarning("{Variable} names no port; using {Port} for the web proxy {Proxy}.", variableName, DefaultPort, Describe(address));
        }

        return Create(address, credential);
    }

    /// <summary>Builds a proxy from an address and optional credentials (e.g. <c>-Proxy</c> and <c>-ProxyCredential</c>).</summary>
    /// <param name="address">An <c>http</c> or <c>https</c> URI of the proxy; user information in it is ignored.</param>
    /// <param name="credential">Basic-authentication user and password; null = none.</param>
    /// <exception cref="ArgumentException">the address is not an absolute http or https URI.</exception>
    public static IWebProxy Create(Uri address, NetworkCredential? credential)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (!address.IsAbsoluteUri || address.Scheme is not ("http" or "https") || address.Host.Length == 0)
        {
            throw new ArgumentException($"The web proxy address is not valid. Give {ExpectedForm}.");
        }

        return new WebProxy(new UriBuilder(address.Scheme, address.Host, address.Port).Uri)
        {
            BypassProxyOnLocal = false,
            Credentials = credential,
        };
    }

    /// <summary>Describes a proxy address for logs and errors: scheme, host and port, never user or password.</summary>
    public static string Describe(Uri proxyAddress)
    {
        ArgumentNullException.ThrowIfNull(proxyAddress);
        return proxyAddress.IsAbsoluteUri
            ? $"{proxyAddress.Scheme}://{ServiceHostPort(proxyAddress)}"
            : "(a relative proxy address)";
    }

    /// <summary>Describes the proxy a <see cref="IWebProxy"/> uses for <paramref name="target"/>, without credentials; "direct" when it is bypassed.</summary>
    public static string Describe(IWebProxy proxy, Uri target)
    {
        ArgumentNullException.ThrowIfNull(proxy);
        ArgumentNullException.ThrowIfNull(target);
        return proxy.IsBypassed(target) || proxy.GetProxy(target) is not { } address ? "direct" : Describe(address);
    }

    /// <summary>Describes a proxy URL given as text, without credentials; a safe placeholder when it cannot be parsed.</summary>
    public static string DescribeText(string proxyUrl)
    {
        try
        {
            return Describe(Parse(proxyUrl, "proxy").Address);
        }
        catch (ArgumentException)
        {
            return "(an invalid proxy URL)";
        }
    }

    /// <summary>Splits a proxy URL into its address (no user information), credential and whether a port was given.</summary>
    /// <exception cref="ArgumentException">the URL is malformed; the value is not echoed.</exception>
    internal static (Uri Address, NetworkCredential? Credential, bool PortGiven) Parse(string proxyUrl, string variableName)
    {
        ArgumentNullException.ThrowIfNull(proxyUrl);
        string text = proxyUrl.Trim();
        string scheme = "http";
        int schemeEnd = text.IndexOf("://", StringComparison.Ordinal);
        if (schemeEnd >= 0)
        {
            scheme = text[..schemeEnd].ToLowerInvariant();
            text = text[(schemeEnd + 3)..];
        }

        if (scheme is not ("http" or "https"))
        {
            throw Invalid(variableName, $"its scheme is '{scheme}'; only http and https proxies are supported");
        }

        text = text.TrimEnd('/');
        NetworkCredential? credential = null;
        int at = text.LastIndexOf('@');
        if (at >= 0)
        {
            credential = ParseCredential(text[..at], variableName);
            text = text[(at + 1)..];
        }

        if (text.Length == 0 || text.Contains('/') || text.Contains('?') || text.Contains('#'))
        {
            throw Invalid(variableName, text.Length == 0 ? "it names no host" : "it has a path; give only the scheme, host and port");
        }

        bool portGiven = HasPort(text);
        if (!Uri.TryCreate($"{scheme}://{text}", UriKind.Absolute, out var uri) || uri.Host.Length == 0 || uri.UserInfo.Length > 0)
        {
            throw Invalid(variableName, "its host or port is malformed");
        }

        int port = portGiven ? uri.Port : DefaultPort;
        if (port is <= 0 or > 65535)
        {
            throw Invalid(variableName, "its port is not from 1 to 65535");
        }

        return (new UriBuilder(scheme, uri.Host, port).Uri, credential, portGiven);
    }

    private static NetworkCredential ParseCredential(string userInfo, string variableName)
    {
        int colon = userInfo.IndexOf(':');
        if (colon <= 0)
        {
            throw Invalid(variableName, userInfo.Length == 0
                ? "it has '@' but no user; remove the '@' when the proxy needs no authentication"
                : "its user information has no ':' between user and password");
        }

        // Percent-decoding only ('+' stays '+'); a '%' not followed by two hex digits is kept as is.
        return new NetworkCredential(Uri.UnescapeDataString(userInfo[..colon]), Uri.UnescapeDataString(userInfo[(colon + 1)..]));
    }

    private static bool HasPort(string hostPort)
    {
        int close = hostPort.LastIndexOf(']');
        int colon = hostPort.LastIndexOf(':');
        return colon > close && (close >= 0 || hostPort.IndexOf(':') == colon);
    }

    private static string ServiceHostPort(Uri uri) =>
        uri.HostNameType == UriHostNameType.IPv6
            ? $"[{uri.IdnHost.Trim('[', ']')}]:{uri.Port.ToString(CultureInfo.InvariantCulture)}"
            : $"{uri.IdnHost}:{uri.Port.ToString(CultureInfo.InvariantCulture)}";

    private static ArgumentException Invalid(string variableName, string why) =>
        new($"{variableName} is not a usable web proxy URL: {why}. Set it to {ExpectedForm}, or unset it for a direct connection.");
}
