using AwsTunnel.Engine.Protocol;
using AwsTunnel.Engine.Service;
using AwsTunnel.Engine.Settings;
using AwsTunnel.Engine.Tunnel;
using AwsTunnel.Tests.Support;

namespace AwsTunnel.Tests.Service;

/// <summary>The whole story through the API, as a script using Open-IOTSTTunnel would run it against the local service.</summary>
public class TunnelingApiStoryTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Open_connect_both_ends_echo_describe_rotate_and_close_through_the_API(bool tls)
    {
        await using var echo = new EchoServer();
        await using var host = await ApiHost.StartAsync(new LocalTunnelServiceOptions { UseTls = tls });
        var clients = new List<TunnelClient>();
        try
        {
            var opened = await host.Client.OkAsync("OpenTunnel", new { destinationConfig = new { thingName = "pump-7", services = new[] { "ECHO" } } });
            string id = opened["tunnelId"]!.GetValue<string>();

            var destination = await StartAsync(host, clients, TunnelMode.Destination, opened["destinationAccessToken"]!.GetValue<string>(), $"ECHO=127.0.0.1:{echo.Port}");
            var source = await StartAsync(host, clients, TunnelMode.Source, opened["sourceAccessToken"]!.GetValue<string>(), "ECHO=0");
            using (var socket = await TcpProbe.ConnectAsync(source.Ports["ECHO"]))
            {
                Assert.Equal("through the API's tunnel", await TcpProbe.EchoAsync(socket, "through the API's tunnel"));
            }

            var described = (await host.Client.OkAsync("DescribeTunnel", new { tunnelId = id }))["tunnel"]!;
            Assert.Equal("CONNECTED", described["sourceConnectionState"]!["status"]!.GetValue<string>());
            Assert.Equal("CONNECTED", described["destinationConnectionState"]!["status"]!.GetValue<string>());

            // The rotated source is cut off and refused; a source with the new token takes its place.
            var rotated = await host.Client.OkAsync("RotateTunnelAccessToken", new { tunnelId = id, clientMode = "SOURCE" });
            var oldSourceEnd = await source.Completion.WaitAsync(TimeSpan.FromSeconds(60));
            Assert.Equal(TunnelEndReason.HandshakeRejected, oldSourceEnd.Reason);
            var newSource = await StartAsync(host, clients, TunnelMode.Source, rotated["sourceAccessToken"]!.GetValue<string>(), "ECHO=0");
            using (var socket = await TcpProbe.ConnectAsync(newSource.Ports["ECHO"]))
            {
                Assert.Equal("after rotation", await TcpProbe.EchoAsync(socket, "after rotation"));
            }

            await host.Client.OkAsync("CloseTunnel", new { tunnelId = id });

            var ends = await Task.WhenAll(newSource.Completion, destination.Completion).WaitAsync(TimeSpan.FromSeconds(60));
            Assert.All(ends, end => Assert.Equal(TunnelEndReason.TunnelClosed, end.Reason));
            Assert.All(ends, end => Assert.True(end.IsSuccess));
            var closed = (await host.Client.OkAsync("DescribeTunnel", new { tunnelId = id }))["tunnel"]!;
            Assert.Equal("CLOSED", closed["status"]!.GetValue<string>());
            Assert.Equal("DISCONNECTED", closed["sourceConnectionState"]!["status"]!.GetValue<string>());
        }
        finally
        {
            foreach (var client in clients)
            {
                await client.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task An_expiring_tunnel_ends_its_proxies_as_the_service_does()
    {
        await using var echo = new EchoServer();
        await using var host = await ApiHost.StartAsync();
        var tunnel = host.Service.CreateTunnel(new[] { "ECHO" }, TimeSpan.FromSeconds(3));
        var clients = new List<TunnelClient>();
        try
        {
            var destination = await StartAsync(host, clients, TunnelMode.Destination, tunnel.DestinationAccessToken, $"ECHO=127.0.0.1:{echo.Port}");
            var source = await StartAsync(host, clients, TunnelMode.Source, tunnel.SourceAccessToken, "ECHO=0");

            var ends = await Task.WhenAll(source.Completion, destination.Completion).WaitAsync(TimeSpan.FromSeconds(60));

            Assert.All(ends, end => Assert.Equal(TunnelEndReason.TunnelClosed, end.Reason));
            Assert.Contains("expired", ends[0].Message);
            var described = (await host.Client.OkAsync("DescribeTunnel", new { tunnelId = tunnel.TunnelId }))["tunnel"]!;
            Assert.Equal("CLOSED", described["status"]!.GetValue<string>());
        }
        finally
        {
            foreach (var client in clients)
            {
                await client.DisposeAsync();
            }
        }
    }

    private static async Task<TunnelClient> StartAsync(ApiHost host, List<TunnelClient> clients, TunnelMode mode, string token, string mappings)
    {
        var client = new TunnelClient(new TunnelOptions
        {
            Mode = mode,
            ServiceUri = host.Service.Endpoint,
            AccessToken = token,
            Services = ServiceMapping.ParseList(mappings, "test mapping"),
            Settings = TunnelHarness.FastSettings,
            TrustedCertificates = host.Service.Certificate is null ? null : new(host.Service.Certificate),
            LoggerFactory = host.Logs,
            StartTimeout = TimeSpan.FromSeconds(15),
        });
        clients.Add(client);
        await client.StartAsync();
        return client;
    }
}
