using System.Security.Cryptography.X509Certificates;
using AwsTunnel.Engine.Protocol;
using AwsTunnel.Engine.Service;

namespace AwsTunnel.PowerShell.LocalService;

/// <summary>
/// A local tunneling service running in this PowerShell session (Start-LocalTunnelService):
/// the offline stand-in for AWS IoT Secure Tunneling, for demos and Pester CI.
/// </summary>
public sealed class LocalTunnelServiceInfo
{
    // One wrapper per tunnel, whether New-LocalTunnel or the OpenTunnel API opened it.
    private readonly Dictionary<string, LocalTunnelInfo> _wrappers = new(StringComparer.Ordinal);

    internal LocalTunnelServiceInfo(LocalTunnelService service, bool useTls, ProtocolVersion maxProtocol)
    {
        Service = service;
        UseTls = useTls;
        MaxProtocol = maxProtocol;
        StartedAt = DateTimeOffset.Now;
    }

    internal LocalTunnelService Service { get; }

    /// <summary>The address proxies connect to: ws://127.0.0.1:PORT, or wss://localhost:PORT with -UseTls.</summary>
    public string Endpoint => Service.Endpoint.ToString();

    /// <summary>The IoT Secure Tunneling API on the same port: for -EndpointUrl, --endpoint-url or AWS_ENDPOINT_URL_IOTSECURETUNNELING.</summary>
    public string ApiEndpoint => Service.ApiEndpoint.ToString();

    /// <summary>The PowerShell line that points AWS Tools and the AWS CLI at <see cref="ApiEndpoint"/>.</summary>
    public string EnvironmentLine => $"$env:{LocalTunnelService.ApiEndpointVariable} = '{ApiEndpoint}'";

    /// <summary>The port the service listens on.</summary>
    public int Port => Service.Endpoint.Port;

    /// <summary>True when the service speaks wss with a self-signed certificate.</summary>
    public bool UseTls { get; }

    /// <summary>The highest protocol version the service selects.</summary>
    public ProtocolVersion MaxProtocol { get; }

    /// <summary>The self-signed certificate served over wss (null for ws). The Start cmdlets trust it when a tunnel is piped in.</summary>
    public X509Certificate2? Certificate => Service.Certificate;

    /// <summary>When the service started.</summary>
    public DateTimeOffset StartedAt { get; }

    /// <summary>False once Stop-LocalTunnelService has run.</summary>
    public bool IsRunning { get; private set; } = true;

    /// <summary>The tunnels on this service, open or closed, from New-LocalTunnel or the OpenTunnel API.</summary>
    public LocalTunnelInfo[] Tunnels => Service.Tunnels.Select(Wrap).ToArray();

    /// <summary>
    /// The MQTT broker the service publishes tunnel notifications to (mqtt://127.0.0.1:PORT for
    /// -MqttBroker Embedded); empty when it publishes none. Binds to Start-TunnelAgent -Broker.
    /// </summary>
    public string? MqttBroker => Notifier?.Publisher.BrokerUri;

    /// <summary>How many tunnel notifications were published to <see cref="MqttBroker"/>.</summary>
    public int NotificationsPublished => Notifier?.Published ?? 0;

    /// <summary>Publishes a notification for every tunnel opened (or rotated) for a thing; null = none.</summary>
    internal TunnelNotifier? Notifier { get; set; }

    /// <summary>How many tunnels are open.</summary>
    public int OpenTunnels => Tunnels.Count(t => t.IsOpen);

    /// <inheritdoc />
    public override string ToString() => $"Local tunneling service at {Endpoint} ({(IsRunning ? "running" : "stopped")})";

    internal LocalTunnelInfo CreateTunnel(IEnumerable<string> services, TimeSpan? lifetime, string? thingName = null) =>
        Wrap(Service.Registry.Open(new LocalTunnelSpec { Services = services.ToList(), Lifetime = lifetime, ThingName = thingName }));

    internal LocalTunnelInfo? FindTunnel(string tunnelId) =>
        Service.Tunnels.FirstOrDefault(t => string.Equals(t.TunnelId, tunnelId, StringComparison.OrdinalIgnoreCase)) is { } tunnel
            ? Wrap(tunnel)
            : null;

    private LocalTunnelInfo Wrap(LocalTunnel tunnel)
    {
        lock (_wrappers)
        {
            if (!_wrappers.TryGetValue(tunnel.TunnelId, out var info))
            {
                _wrappers[tunnel.TunnelId] = info = new LocalTunnelInfo(tunnel, this);
            }

            return info;
        }
    }

    internal async Task StopAsync()
    {
        IsRunning = false;
        if (Notifier is { } notifier)
        {
            await notifier.DisposeAsync().ConfigureAwait(false);
        }

        await Service.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>For runspace teardown, which cannot await.</summary>
    internal void StopBlocking() => Task.Run(StopAsync).Wait(TimeSpan.FromSeconds(10));
}
