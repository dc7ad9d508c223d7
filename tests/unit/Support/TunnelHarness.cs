using AwsTunnel.Engine.Protocol;
using AwsTunnel.Engine.Service;
using AwsTunnel.Engine.Settings;
using AwsTunnel.Engine.Tunnel;

namespace AwsTunnel.Tests.Support;

/// <summary>
/// A local tunneling service with one tunnel, and helpers to start source and destination
/// sessions on it. Everything on loopback; disposed at the end of a test.
/// </summary>
public sealed class TunnelHarness : IAsyncDisposable
{
    private readonly List<TunnelClient> _clients = new();

    private TunnelHarness(LocalTunnelService service, LocalTunnel tunnel, LogCapture logs)
    {
        Service = service;
        Tunnel = tunnel;
        Logs = logs;
    }

    public LocalTunnelService Service { get; }
    public LocalTunnel Tunnel { get; }
    public LogCapture Logs { get; }

    /// <summary>Fast retries so failure paths finish quickly in tests.</summary>
    public static ProxySettings FastSettings { get; } = ProxySettings.Default with
    {
        TcpConnectionRetryCount = 2,
        TcpConnectionRetryDelayMs = 100,
        WebSocketRetryDelayMs = 200,
    };

    /// <summary>
    /// <see cref="FastSettings"/> with queues that hold a whole bulk transfer. The protocol has no
    /// flow control per connection, so a proxy never waits for a slow local reader: one that falls
    /// further behind than the queue limits is reset (README, "Slow and stuck readers"). On a loaded
    /// machine a test's reader in this process can be starved for seconds while the proxies in the
    /// same process keep running; tests of bulk transfers that check something other than that
    /// policy use these limits (the policy has its own tests).
    /// </summary>
    public static ProxySettings RoomForBulkSettings { get; } = FastSettings with
    {
        ConnectionBufferLimitBytes = 64 * 1024 * 1024,
        TunnelBufferLimitBytes = 256 * 1024 * 1024,
    };

    public static async Task<TunnelHarness> StartAsync(
        IEnumerable<string>? services = null, bool tls = false, ProtocolVersion maxProtocol = ProtocolVersion.V3)
    {
        var logs = new LogCapture();
        var service = new LocalTunnelService(new LocalTunnelServiceOptions { UseTls = tls, MaxProtocol = maxProtocol, LoggerFactory = logs });
        await service.StartAsync();
        var tunnel = service.CreateTunnel(services);
        return new TunnelHarness(service, tunnel, logs);
    }

    public TunnelOptions Options(TunnelMode mode, string mappings, ProxySettings? settings = null) => new()
    {
        Mode = mode,
        ServiceUri = Service.Endpoint,
        AccessToken = mode == TunnelMode.Source ? Tunnel.SourceAccessToken : Tunnel.DestinationAccessToken,
        Services = mappings.Length == 0 ? Array.Empty<ServiceMapping>() : ServiceMapping.ParseList(mappings, "test mapping"),
        Settings = settings ?? FastSettings,
        TrustedCertificates = Service.Certificate is null ? null : new(Service.Certificate),
        LoggerFactory = Logs,
        StartTimeout = TimeSpan.FromSeconds(15),
    };

    public async Task<TunnelClient> StartAsync(TunnelOptions options)
    {
        var client = new TunnelClient(options);
        _clients.Add(client);
        await client.StartAsync();
        return client;
    }

    public Task<TunnelClient> StartDestinationAsync(string mappings, ProxySettings? settings = null) =>
        StartAsync(Options(TunnelMode.Destination, mappings, settings));

    public Task<TunnelClient> StartSourceAsync(string mappings = "", ProxySettings? settings = null) =>
        StartAsync(Options(TunnelMode.Source, mappings, settings));

    public async ValueTask DisposeAsync()
    {
        foreach (var client in _clients)
        {
            await client.DisposeAsync();
        }

        await Service.DisposeAsync();
    }
}
