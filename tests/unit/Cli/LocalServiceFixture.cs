using AwsTunnel.Engine.Service;

namespace AwsTunnel.Tests.Cli;

/// <summary>A local tunneling service with one tunnel, for running the CLI against; loopback only.</summary>
internal sealed class LocalServiceFixture : IAsyncDisposable
{
    private LocalServiceFixture(LocalTunnelService service, LocalTunnel tunnel)
    {
        Service = service;
        Tunnel = tunnel;
    }

    public LocalTunnelService Service { get; }
    public LocalTunnel Tunnel { get; }

    public string Endpoint => Service.Endpoint.ToString();

    public static async Task<LocalServiceFixture> StartAsync(params string[] services)
    {
        var service = new LocalTunnelService();
        await service.StartAsync();
        return new LocalServiceFixture(service, service.CreateTunnel(services));
    }

    /// <summary>The environment a user would set: the token and the endpoint.</summary>
    public Dictionary<string, string?> Environment(string token) => new()
    {
        ["AWSIOT_TUNNEL_ACCESS_TOKEN"] = token,
        ["AWSIOT_TUNNEL_ENDPOINT"] = Endpoint,
    };

    public ValueTask DisposeAsync() => Service.DisposeAsync();
}
