using System.Net;

namespace AwsTunnel.Cli;

/// <summary>
/// The reference proxy's HTTP(S) proxy support: <c>https_proxy</c> (lower case wins) or
/// <c>HTTPS_PROXY</c>, as <c>http://[user:pass@]host:port</c> or <c>https://…</c>.
/// </summary>
internal static class HttpsProxyEnvironment
{
    /// <summary>The web proxy to use, or null for a direct connection.</summary>
    /// <exception cref="UsageException">the variable is not a proxy URL (its value is not echoed: it may hold a password).</exception>
    public static IWebProxy? Resolve(CliContext context)
    {
        string name = context.Variable("https_proxy") is not null ? "https_proxy" : "HTTPS_PROXY";
        string? value = context.Variable(name);
        if (value is null)
        {
            return null;
        }

        if (!Uri.TryCreate(value, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || uri.Host.Length == 0)
        {
            throw new UsageException($"{name} is not a proxy URL. Set it to http://[USER:PASSWORD@]HOST:PORT or https://…, or unset it.");
        }

        var proxy = new WebProxy(new UriBuilder(uri.Scheme, uri.Host, uri.Port).Uri);
        if (uri.UserInfo.Length > 0)
        {
            string[] parts = uri.UserInfo.Split(':', 2);
            proxy.Credentials = new NetworkCredential(
                Uri.UnescapeDataString(parts[0]),
                parts.Length > 1 ? Uri.UnescapeDataString(parts[1]) : string.Empty);
        }

        return proxy;
    }
}
