using AwsTunnel.Engine.Service;
using AwsTunnel.Tests.Support;

namespace AwsTunnel.Tests.Service;

/// <summary>A local tunneling service on loopback and an SDK-shaped API client for it.</summary>
public sealed class ApiHost : IAsyncDisposable
{
    private ApiHost(LocalTunnelService service, TunnelingApiClient client, LogCapture logs)
    {
        Service = service;
        Client = client;
        Logs = logs;
    }

    public LocalTunnelService Service { get; }
    public TunnelingApiClient Client { get; }
    public LogCapture Logs { get; }

    public static async Task<ApiHost> StartAsync(LocalTunnelServiceOptions? options = null, string region = "us-west-2")
    {
        var logs = new LogCapture();
        var service = new LocalTunnelService((options ?? new LocalTunnelServiceOptions()) with { LoggerFactory = logs });
        await service.StartAsync();
        return new ApiHost(service, new TunnelingApiClient(service.ApiEndpoint, region), logs);
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await Service.DisposeAsync();
    }
}
