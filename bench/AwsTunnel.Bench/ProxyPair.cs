using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;

namespace AwsTunnel.Bench;

/// <summary>Which local proxy a <see cref="ProxyPair"/> runs.</summary>
internal enum ProxyKind
{
    /// <summary>The reference C++ localproxy (the binary in LOCALPROXY).</summary>
    Reference,

    /// <summary>The awstunnel CLI.</summary>
    AwsTunnel,

    /// <summary>The PowerShell module in-process: Start-TunnelDestination and Start-TunnelSource, each in its own pwsh.</summary>
    Module,

    /// <summary>As <see cref="Module"/>, in a pwsh started with DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1 (the CLI's setting, a user's opt-in).</summary>
    ModuleInline,
}

/// <summary>
/// A destination and a source proxy of one tunnel on a wss service, as CLI processes, each
/// timed from process start to ready: the destination connected, the source connected and
/// listening. Tokens go in AWSIOT_TUNNEL_ACCESS_TOKEN for both kinds.
/// </summary>
internal sealed partial class ProxyPair
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);

    private ProxyPair(ProxyKind kind, Child destination, Child source, int sourcePort, double destinationStartMs, double sourceStartMs)
    {
        Kind = kind;
        Destination = destination;
        Source = source;
        SourcePort = sourcePort;
        DestinationStartMs = destinationStartMs;
        SourceStartMs = sourceStartMs;
    }

    public ProxyKind Kind { get; }
    public Child Destination { get; }
    public Child Source { get; }
    public int SourcePort { get; }

    /// <summary>Process start to "connected" of the destination, ms (the module: the Start-TunnelDestination call).</summary>
    public double DestinationStartMs { get; }

    /// <summary>Process start to "listening" of the source (which connects first), ms (the module: the Start-TunnelSource call).</summary>
    public double SourceStartMs { get; }

    /// <summary>The module: RSS of each pwsh after Import-Module, before the session (MiB); 0 for the CLIs.</summary>
    public double DestinationHostRssMiB { get; private init; }
    public double SourceHostRssMiB { get; private init; }

    public string Label => LabelOf(Kind);

    public static string LabelOf(ProxyKind kind) => kind switch
    {
        ProxyKind.Reference => "reference",
        ProxyKind.AwsTunnel => "awstunnel",
        ProxyKind.ModuleInline => "module-inline",
        _ => "module",
    };

    /// <summary>
    /// Starts the destination (forwarding SVC to <paramref name="targetPort"/>), then the source.
    /// <paramref name="endpoint"/> is the service's wss:// URL, <paramref name="caDir"/> the directory
    /// with its certificate (hashed for OpenSSL, which the reference's -c needs).
    /// </summary>
    public static async Task<ProxyPair> StartAsync(
        BenchContext ctx, ProxyKind kind, string name, string endpoint, string caDir, Deployment.TunnelTokens tokens, int targetPort)
    {
        string target = $"{Deployment.ServiceId}=127.0.0.1:{targetPort.ToString(CultureInfo.InvariantCulture)}";
        string settings = Settings(ctx);
        var clock = Stopwatch.StartNew();
        Child destination;
        Child source;
        int port;
        double destinationMs;
        if (kind == ProxyKind.Reference)
        {
            // The reference takes host:port (always wss), needs an explicit source port, and logs to
            // stderr; its "listening" and "connected" lines are at info (-v 4, its default).
            string hostPort = endpoint.Replace("wss://", string.Empty, StringComparison.Ordinal);
            string[] common = { "-e", hostPort, "-c", caDir, "-v", "4", "--settings-json", settings };
            destination = StartReference(ctx, $"{name} destination", common.Concat(new[] { "-d", target }), tokens.Destination);
            await destination.WaitForLineAsync(ReferenceConnectedLine(), StartTimeout);
            destinationMs = clock.Elapsed.TotalMilliseconds;
            int freePort = FreeLoopbackPort();
            clock.Restart();
            source = StartReference(ctx, $"{name} source", common.Concat(new[] { "-s", $"{Deployment.ServiceId}={freePort.ToString(CultureInfo.InvariantCulture)}" }), tokens.Source);
            port = int.Parse((await source.WaitForLineAsync(ReferenceListeningLine(), StartTimeout)).Groups[1].Value, CultureInfo.InvariantCulture);
        }
        else if (kind is ProxyKind.Module or ProxyKind.ModuleInline)
        {
            bool inline = kind == ProxyKind.ModuleInline;
            destination = StartModule(ctx, $"{name} destination", "Start-TunnelDestination", endpoint, caDir, $"-Service '{target}'", "Forwarding SVC", tokens.Destination, settings, inline);
            var destinationReady = await destination.WaitForLineAsync(ModuleReadyLine(), StartTimeout);
            destinationMs = double.Parse(destinationReady.Groups["ms"].Value, CultureInfo.InvariantCulture);
            source = StartModule(ctx, $"{name} source", "Start-TunnelSource", endpoint, caDir, "-Service SVC=0", "Listening for SVC on 127.0.0.1:$($session.Ports['SVC'])", tokens.Source, settings, inline);
            var sourceReady = await source.WaitForLineAsync(ModuleReadyLine(), StartTimeout);
            port = int.Parse(sourceReady.Groups["port"].Value, CultureInfo.InvariantCulture);
            double moduleSourceMs = double.Parse(sourceReady.Groups["ms"].Value, CultureInfo.InvariantCulture);
            Log.Line($"{name}: module destination pid {destination.Pid} ready in {destinationMs:0} ms, source pid {source.Pid} listening on 127.0.0.1:{port} in {moduleSourceMs:0} ms (the cmdlet calls)");
            return new ProxyPair(kind, destination, source, port, destinationMs, moduleSourceMs)
            {
                DestinationHostRssMiB = double.Parse(destinationReady.Groups["rss"].Value, CultureInfo.InvariantCulture),
                SourceHostRssMiB = double.Parse(sourceReady.Groups["rss"].Value, CultureInfo.InvariantCulture),
            };
        }
        else
        {
            string[] common = { "-e", endpoint, "-c", caDir, "-v", "2", "--settings-json", settings };
            destination = Child.StartAwsTunnel(ctx, $"{name} destination", common.Concat(new[] { "-d", target }), tokens.Destination);
            await destination.WaitForLineAsync(Deployment.ForwardingLine(), StartTimeout);
            destinationMs = clock.Elapsed.TotalMilliseconds;
            clock.Restart();
            source = Child.StartAwsTunnel(ctx, $"{name} source", common.Concat(new[] { "-s", $"{Deployment.ServiceId}=0" }), tokens.Source);
            port = int.Parse((await source.WaitForLineAsync(Deployment.SourceListeningLine(), StartTimeout)).Groups[1].Value, CultureInfo.InvariantCulture);
        }

        double sourceMs = clock.Elapsed.TotalMilliseconds;
        Log.Line($"{name}: {LabelOf(kind)} destination pid {destination.Pid} ready in {destinationMs:0} ms, source pid {source.Pid} listening on 127.0.0.1:{port} in {sourceMs:0} ms");
        return new ProxyPair(kind, destination, source, port, destinationMs, sourceMs);
    }

    /// <summary>The first line the reference prints, e.g. "v3.3.1".</summary>
    public static async Task<string> ReferenceVersionAsync(BenchContext ctx)
    {
        var child = Child.Start(ctx.Children, "reference --version", ctx.Options.LocalProxy!, new[] { "--version" }, matchStderr: true);
        try
        {
            return (await child.WaitForLineAsync(ReferenceVersionLine(), TimeSpan.FromSeconds(20))).Groups[1].Value;
        }
        finally
        {
            child.Kill();
        }
    }

    public void EnsureRunning()
    {
        Destination.EnsureRunning();
        Source.EnsureRunning();
    }

    public void Stop()
    {
        Source.Kill();
        Destination.Kill();
    }

    /// <summary>
    /// One end as a PowerShell user runs it: a pwsh imports the module and calls the cmdlet with
    /// the token from AWSIOT_TUNNEL_ACCESS_TOKEN, then waits on the session job. The ready line
    /// gives the cmdlet's time (PowerShell's own start and the import are not the module's) and
    /// the process's RSS after the import, before the session. The host keeps the runtime's
    /// defaults: inline socket completions off, as in a user's PowerShell, unless
    /// <paramref name="inlineCompletions"/> (a user who starts pwsh with the CLI's setting).
    /// <paramref name="settings"/> is the settings file every pair gets.
    /// </summary>
    private static Child StartModule(
        BenchContext ctx, string name, string cmdlet, string endpoint, string caDir, string service, string readyText, string token, string settings, bool inlineCompletions)
    {
        var o = ctx.Options;
        string script = string.Join("; ",
            "$ErrorActionPreference = 'Stop'",
            $"Import-Module -Name '{Path.Combine(o.ModuleDir!, "AwsTunnel.psd1")}'",
            "$rss = [Environment]::WorkingSet / 1MB",
            "$watch = [Diagnostics.Stopwatch]::StartNew()",
            $"$session = {cmdlet} -AccessToken $env:AWSIOT_TUNNEL_ACCESS_TOKEN -Endpoint '{endpoint}' -CertificatePath '{caDir}' -SettingsPath '{settings}' {service}",
            "$ms = $watch.Elapsed.TotalMilliseconds",
            $"\"{readyText} ready in $($ms.ToString([cultureinfo]::InvariantCulture)) ms, host RSS $($rss.ToString([cultureinfo]::InvariantCulture)) MiB\"",
            "$null = Wait-Job $session",
            "Receive-Job $session");
        var arguments = new List<string> { "-NoLogo", "-NoProfile", "-NonInteractive", "-Command", script };
        var environment = new Dictionary<string, string>
        {
            ["AWSIOT_TUNNEL_ACCESS_TOKEN"] = token,
            ["DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS"] = inlineCompletions ? "1" : "0",
        };
        return o.Pwsh!.EndsWith(".dll", StringComparison.OrdinalIgnoreCase)
            ? Child.Start(ctx.Children, name, o.Dotnet, new[] { o.Pwsh }.Concat(arguments), environment)
            : Child.Start(ctx.Children, name, o.Pwsh, arguments, environment);
    }

    private static Child StartReference(BenchContext ctx, string name, IEnumerable<string> arguments, string token) =>
        Child.Start(ctx.Children, name, ctx.Options.LocalProxy!, arguments, Child.TokenEnvironment(token), matchStderr: true);

    /// <summary>
    /// The same 64 MiB for data waiting for a local client, in every pair. The reference never
    /// stops reading the WebSocket while its TCP write buffer (128 KiB by default) is full: it ends
    /// with "basic_multi_buffer too long" (its issue #160) as soon as a target reads more slowly
    /// than the tunnel delivers, which the bench's checking sink does on a loaded machine.
    /// awstunnel resets a client 16 MiB behind by default (README, "Slow and stuck readers"),
    /// which the 64 MiB warm-up echo can reach when the return path runs behind. The buffer only
    /// takes memory when used. Each proxy ignores the other's key.
    /// </summary>
    private static string Settings(BenchContext ctx)
    {
        string path = Path.Combine(ctx.Options.WorkDir, "b7-settings.json");
        File.WriteAllText(path, """{"tunneling":{"proxy":{"tcp":{"write_buffer_size":"67108864"},"awstunnel":{"connection_buffer_limit_bytes":"67108864"}}}}""");
        return path;
    }

    private static int FreeLoopbackPort()
    {
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)probe.LocalEndPoint!).Port;
    }

    /// <summary>A module end is ready: the cmdlet's time, the host's RSS before the session, and a source's port.</summary>
    [GeneratedRegex(@"(?:127\.0\.0\.1:(?<port>\d+) )?ready in (?<ms>[0-9.]+) ms, host RSS (?<rss>[0-9.]+) MiB")]
    private static partial Regex ModuleReadyLine();

    [GeneratedRegex(@"Successfully established websocket connection with proxy server")]
    private static partial Regex ReferenceConnectedLine();

    [GeneratedRegex(@"Listening for new connection on port (\d+)")]
    private static partial Regex ReferenceListeningLine();

    [GeneratedRegex(@"Local Proxy version:\s*(\S+)")]
    private static partial Regex ReferenceVersionLine();
}
