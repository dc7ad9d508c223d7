using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using AwsTunnel.Engine.Protocol;
using AwsTunnel.Engine.Service;
using AwsTunnel.Tests.Cli;
using AwsTunnel.Tests.Support;

namespace AwsTunnel.Tests.Interop;

/// <summary>
/// A local tunneling service on wss (the reference only speaks wss), an echo target, and the
/// proxies of a test: the reference's (processes, <c>-k</c> for the self-signed certificate) and
/// ours (the <c>awstunnel</c> CLI, in-process). Loopback only. Disposing stops all of them.
/// </summary>
internal sealed partial class InteropRig : IAsyncDisposable
{
    private readonly List<ReferenceProxy> _references = new();
    private readonly List<CliRun> _ours = new();
    private readonly Settings.TempDirectory _files = new();

    private InteropRig(LocalTunnelService service, EchoServer echo, ProtocolVersion protocol)
    {
        Service = service;
        Echo = echo;
        Protocol = protocol;
    }

    public LocalTunnelService Service { get; }
    public EchoServer Echo { get; }

    /// <summary>The protocol the service speaks (at most).</summary>
    public ProtocolVersion Protocol { get; }

    /// <summary>Variables every reference proxy started from now on gets (e.g. a client token).</summary>
    public Dictionary<string, string> ReferenceEnvironment { get; } = new();

    /// <summary>host:port of the service, as the reference's -e takes it.</summary>
    public string HostPort => $"127.0.0.1:{Service.Endpoint.Port.ToString(CultureInfo.InvariantCulture)}";

    public static async Task<InteropRig> StartAsync(ProtocolVersion protocol = ProtocolVersion.V3)
    {
        var service = new LocalTunnelService(new LocalTunnelServiceOptions { UseTls = true, MaxProtocol = protocol });
        await service.StartAsync();
        return new InteropRig(service, new EchoServer(), protocol);
    }

    /// <summary>A fresh tunnel; no ids = a V1-style single-stream tunnel.</summary>
    public LocalTunnel NewTunnel(params string[] services) => Service.CreateTunnel(services.Length == 0 ? null : services);

    /// <summary>The echo target as a destination mapping, e.g. <c>SSH1=127.0.0.1:PORT</c> (no id: unnamed).</summary>
    public string Target(string serviceId = "") =>
        serviceId.Length == 0 ? $"127.0.0.1:{Echo.Port}" : $"{serviceId}=127.0.0.1:{Echo.Port}";

    /// <summary>Starts a reference destination and waits until its WebSocket is up.</summary>
    public async Task<ReferenceProxy> ReferenceDestinationAsync(LocalTunnel tunnel, string targets, params string[] extra)
    {
        var proxy = StartReference("destination", tunnel.DestinationAccessToken, new[] { "-d", targets }.Concat(extra));
        await proxy.WaitForLineAsync(ReferenceConnected());
        return proxy;
    }

    /// <summary>Starts a reference source listening on free ports for <paramref name="serviceIds"/> (none: unnamed) and returns them in order.</summary>
    public async Task<(ReferenceProxy Proxy, int[] Ports)> ReferenceSourceAsync(LocalTunnel tunnel, string[] serviceIds, params string[] extra)
    {
        var ports = (serviceIds.Length == 0 ? new[] { "" } : serviceIds).Select(_ => TestPorts.FreeOutsideEphemeralRange()).ToArray();
        string mapping = serviceIds.Length == 0
            ? ports[0].ToString(CultureInfo.InvariantCulture)
            : string.Join(",", serviceIds.Select((id, i) => $"{id}={ports[i].ToString(CultureInfo.InvariantCulture)}"));
        var proxy = StartReference("source", tunnel.SourceAccessToken, new[] { "-s", mapping, "-b", "127.0.0.1" }.Concat(extra));
        foreach (var port in ports)
        {
            await proxy.WaitForLineAsync(new Regex($"Listening for new connection on port {port}\\b"));
        }

        return (proxy, ports);
    }

    /// <summary>Starts our destination and waits for its "Forwarding" lines.</summary>
    public async Task<CliRun> OurDestinationAsync(LocalTunnel tunnel, string targets, params string[] extra)
    {
        var run = StartOurs(tunnel.DestinationAccessToken, new[] { "-d", targets }.Concat(extra), null);
        await run.WaitForOutputLineAsync(l => l.StartsWith("Forwarding", StringComparison.Ordinal), 60000);
        return run;
    }

    /// <summary>Starts our source on free ports and returns the port of each service ("" when unnamed), read from its ready lines only.</summary>
    public async Task<(CliRun Run, Dictionary<string, int> Ports)> OurSourceAsync(
        LocalTunnel tunnel, string mapping, string[]? extra = null, Dictionary<string, string?>? environment = null)
    {
        var run = StartOurs(tunnel.SourceAccessToken, new[] { "-s", mapping, "-b", "127.0.0.1" }.Concat(extra ?? Array.Empty<string>()), environment);
        int expected = Math.Max(1, tunnel.Services.Count);
        var ports = new Dictionary<string, int>();
        while (ports.Count < expected)
        {
            // Only the printed line is read: a probe connection would take the tunnel's first stream.
            string line = await run.WaitForOutputLineAsync(l => ListeningLine().IsMatch(l) && !ports.ContainsKey(ListeningLine().Match(l).Groups["id"].Value), 60000);
            var match = ListeningLine().Match(line);
            ports[match.Groups["id"].Value] = int.Parse(match.Groups["port"].Value, CultureInfo.InvariantCulture);
        }

        return (run, ports);
    }

    /// <summary>Connects and speaks at once (as HTTP clients do), then checks the echo; the read has a hang guard.</summary>
    public async Task AssertEchoAsync(int port, string text)
    {
        string echoed;
        try
        {
            using var socket = await TcpProbe.ConnectAsync(port);
            echoed = await TcpProbe.EchoAsync(socket, text);
        }
        catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException)
        {
            // Give the proxies a moment to log what they saw before their output is shown.
            await Task.Delay(500);
            Assert.Fail($"No echo of '{text.Trim()}' through port {port}: {ex.Message}\n{Outputs}");
            throw;
        }

        Assert.Equal(text, echoed);
    }

    /// <summary>What every proxy of the rig printed, for assertion messages.</summary>
    public string Outputs =>
        string.Join("\n", _references.Select(r => $"--- reference {r.Name}:\n{r.Output}")
            .Concat(_ours.Select((r, i) => $"--- awstunnel #{i + 1}:\n{r.Error}")));

    /// <summary>A --settings-json file for the reference that makes it offer <paramref name="version"/>.</summary>
    public string ReferenceSubprotocolSettings(ProtocolVersion version) =>
        _files.Write($"subprotocol-{version}.json",
            "{\"tunneling\":{\"proxy\":{\"websocket\":{\"subprotocol\":\"" + Subprotocols.NameOf(version) + "\"}}}}");

    /// <summary>Stops our CLI run like SIGTERM and returns its exit code.</summary>
    public static Task<int> StopAsync(CliRun run) => run.StopAsync(30);

    public async ValueTask DisposeAsync()
    {
        foreach (var run in _ours)
        {
            if (!run.Exit.IsCompleted)
            {
                await run.StopAsync(30);
            }
        }

        foreach (var proxy in _references)
        {
            await proxy.DisposeAsync();
        }

        await Service.DisposeAsync();
        await Echo.DisposeAsync();
        _files.Dispose();
    }

    private ReferenceProxy StartReference(string name, string token, IEnumerable<string> arguments)
    {
        var args = new List<string> { "-e", HostPort, "-k", "-v", "5" };
        if (Protocol != ProtocolVersion.V3)
        {
            args.AddRange(new[] { "--settings-json", ReferenceSubprotocolSettings(Protocol) });
        }

        var proxy = ReferenceProxy.Start(name, token, args.Concat(arguments), new Dictionary<string, string>(ReferenceEnvironment));
        _references.Add(proxy);
        return proxy;
    }

    private CliRun StartOurs(string token, IEnumerable<string> arguments, Dictionary<string, string?>? environment)
    {
        var env = environment ?? new Dictionary<string, string?>();
        env["AWSIOT_TUNNEL_ACCESS_TOKEN"] = token;
        var run = CliRun.Start(new[] { "-e", Service.Endpoint.ToString(), "-k", "-v", "5" }.Concat(arguments).ToArray(), env);
        _ours.Add(run);
        return run;
    }

    [GeneratedRegex("Successfully established websocket connection with proxy server")]
    private static partial Regex ReferenceConnected();

    [GeneratedRegex(@"^Listening (for (?<id>\S+) )?on 127\.0\.0\.1:(?<port>\d+)$")]
    private static partial Regex ListeningLine();
}
