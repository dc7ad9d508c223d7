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

    /// <summary>Process start to "connected" of the destination, ms.</summary>
    public double DestinationStartMs { get; }

    /// <summary>Process start to "listening" of the source (which connects first), ms.</summary>
    public double SourceStartMs { get; }

    public string Label => LabelOf(Kind);

    public static string LabelOf(ProxyKind kind) => kind == ProxyKind.Reference ? "reference" : "awstunnel";

    /// <summary>
    /// Starts the destination (forwarding SVC to <paramref name="targetPort"/>), then the source.
    /// <paramref name="endpoint"/> is the service's wss:// URL, <paramref name="caDir"/> the directory
    /// with its certificate (hashed for OpenSSL, which the reference's -c needs).
    /// </summary>
    public static async Task<ProxyPair> StartAsync(
        BenchContext ctx, ProxyKind kind, string name, string endpoint, string caDir, Deployment.TunnelTokens tokens, int targetPort)
    {
        string target = $"{Deployment.ServiceId}=127.0.0.1:{targetPort.ToString(CultureInfo.InvariantCulture)}";
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
            string[] common = { "-e", hostPort, "-c", caDir, "-v", "4", "--settings-json", ReferenceSettings(ctx) };
            destination = StartReference(ctx, $"{name} destination", common.Concat(new[] { "-d", target }), tokens.Destination);
            await destination.WaitForLineAsync(ReferenceConnectedLine(), StartTimeout);
            destinationMs = clock.Elapsed.TotalMilliseconds;
            int freePort = FreeLoopbackPort();
            clock.Restart();
            source = StartReference(ctx, $"{name} source", common.Concat(new[] { "-s", $"{Deployment.ServiceId}={freePort.ToString(CultureInfo.InvariantCulture)}" }), tokens.Source);
            port = int.Parse((await source.WaitForLineAsync(ReferenceListeningLine(), StartTimeout)).Groups[1].Value, CultureInfo.InvariantCulture);
        }
        else
        {
            string[] common = { "-e", endpoint, "-c", caDir, "-v", "2" };
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

    private static Child StartReference(BenchContext ctx, string name, IEnumerable<string> arguments, string token) =>
        Child.Start(ctx.Children, name, ctx.Options.LocalProxy!, arguments, Child.TokenEnvironment(token), matchStderr: true);

    /// <summary>
    /// The reference never stops reading the WebSocket while its TCP write buffer (128 KiB by
    /// default) is full: it ends with "basic_multi_buffer too long" (its issue #160) as soon as a
    /// target reads more slowly than the tunnel delivers, which the bench's checking sink does on a
    /// loaded machine. A 64 MiB limit keeps it running; the buffer only takes memory when used.
    /// </summary>
    private static string ReferenceSettings(BenchContext ctx)
    {
        string path = Path.Combine(ctx.Options.WorkDir, "b7-reference-settings.json");
        File.WriteAllText(path, """{"tunneling":{"proxy":{"tcp":{"write_buffer_size":"67108864"}}}}""");
        return path;
    }

    private static int FreeLoopbackPort()
    {
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)probe.LocalEndPoint!).Port;
    }

    [GeneratedRegex(@"Successfully established websocket connection with proxy server")]
    private static partial Regex ReferenceConnectedLine();

    [GeneratedRegex(@"Listening for new connection on port (\d+)")]
    private static partial Regex ReferenceListeningLine();

    [GeneratedRegex(@"Local Proxy version:\s*(\S+)")]
    private static partial Regex ReferenceVersionLine();
}
