using System.Text.Json;
using AwsTunnel.Engine.Agent;
using AwsTunnel.Engine.Protocol;
using AwsTunnel.Engine.Service;
using AwsTunnel.Engine.Tunnel;
using AwsTunnel.Tests.Support;

namespace AwsTunnel.Tests.Agent;

/// <summary>
/// A local tunneling service, an MQTT broker and a tunnel agent for thing dev42 whose
/// destinations connect to the local service: tunnels are opened on the service, their
/// notifications published on the broker, and sources started on them to check the agent's
/// destination end to end. Everything on loopback; all of it disposed with the harness.
/// </summary>
public sealed class AgentHarness : IAsyncDisposable
{
    public const string Thing = "dev42";

    private readonly List<TunnelClient> _sources = new();

    private AgentHarness(LocalTunnelService service, ITestBroker broker, EchoServer echo, LogCapture logs)
    {
        Service = service;
        Broker = broker;
        Echo = echo;
        Logs = logs;
    }

    public LocalTunnelService Service { get; }
    public ITestBroker Broker { get; }
    public EchoServer Echo { get; }
    public LogCapture Logs { get; }
    public TunnelAgent Agent { get; private set; } = null!;

    public string NotifyTopic => $"$aws/things/{Thing}/tunnels/notify";

    /// <summary>The agent's options: ECHO and SSH1 go to the echo server; fast broker reconnects.</summary>
    public AgentOptions BaseOptions => Broker.Configure(new AgentOptions
    {
        ThingName = Thing,
        Broker = Broker.Address,
        Services = ServiceMapping.ParseList($"ECHO=127.0.0.1:{Echo.Port},SSH1=127.0.0.1:{Echo.Port}", "test targets"),
        TunnelEndpoint = Service.Endpoint,
        Settings = TunnelHarness.FastSettings,
        ReconnectDelay = TimeSpan.FromMilliseconds(100),
        MaxReconnectDelay = TimeSpan.FromSeconds(1),
        StartTimeout = TimeSpan.FromSeconds(20),
        LoggerFactory = Logs,
    });

    public static async Task<AgentHarness> StartAsync(ITestBroker broker, Func<AgentOptions, AgentOptions>? configure = null)
    {
        var logs = new LogCapture();
        var service = new LocalTunnelService(new LocalTunnelServiceOptions { LoggerFactory = logs });
        await service.StartAsync();
        var harness = new AgentHarness(service, broker, new EchoServer(), logs);
        var options = harness.BaseOptions;
        harness.Agent = new TunnelAgent(configure?.Invoke(options) ?? options);
        await harness.Agent.StartAsync();
        return harness;
    }

    /// <summary>The payload AWS IoT publishes for <paramref name="tunnel"/> (optionally with other fields).</summary>
    public static string PayloadFor(LocalTunnel tunnel, string? token = null, string mode = "destination", IEnumerable<string>? services = null, bool withTunnelId = false)
    {
        var payload = new Dictionary<string, object>
        {
            ["clientAccessToken"] = token ?? tunnel.DestinationAccessToken,
            ["clientMode"] = mode,
            ["region"] = "us-east-1",
            ["services"] = (services ?? tunnel.Services).ToArray(),
        };
        if (withTunnelId)
        {
            payload["tunnelId"] = tunnel.TunnelId;
        }

        return JsonSerializer.Serialize(payload);
    }

    /// <summary>Opens a tunnel on the local service and publishes its notification.</summary>
    public async Task<LocalTunnel> OpenAndNotifyAsync(params string[] services)
    {
        var tunnel = Service.CreateTunnel(services.Length == 0 ? new[] { "ECHO" } : services);
        await Broker.PublishAsync(NotifyTopic, PayloadFor(tunnel));
        return tunnel;
    }

    /// <summary>Waits until the agent serves a destination connected to <paramref name="tunnel"/>.</summary>
    public Task ServedAsync(LocalTunnel tunnel) =>
        Eventually.TrueAsync(() => tunnel.DestinationConnected && Agent.Tunnels.Any(t => t.Client.State == TunnelState.Connected),
            $"the agent's destination for {tunnel.TunnelId} to connect", 30000);

    /// <summary>Starts a source on <paramref name="tunnel"/> and echoes a line through the agent's destination.</summary>
    public async Task<TunnelClient> EchoThroughAsync(LocalTunnel tunnel, string service = "ECHO", TunnelClient? source = null)
    {
        if (source is null)
        {
            source = new TunnelClient(new TunnelOptions
            {
                Mode = TunnelMode.Source,
                ServiceUri = Service.Endpoint,
                AccessToken = tunnel.SourceAccessToken,
                Services = new[] { new ServiceMapping(service, null, 0) },
                Settings = TunnelHarness.FastSettings,
                LoggerFactory = Logs,
                StartTimeout = TimeSpan.FromSeconds(20),
            });
            _sources.Add(source);
            await source.StartAsync();
        }

        using var socket = await TcpProbe.ConnectAsync(source.Ports[service]);
        string line = $"hello through {tunnel.TunnelId} {Guid.NewGuid():N}\n";
        Assert.Equal(line, await TcpProbe.EchoAsync(socket, line));
        return source;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var source in _sources)
        {
            await source.DisposeAsync();
        }

        if (Agent is not null)
        {
            await Agent.DisposeAsync();
        }

        await Broker.DisposeAsync();
        await Service.DisposeAsync();
        await Echo.DisposeAsync();
    }
}
