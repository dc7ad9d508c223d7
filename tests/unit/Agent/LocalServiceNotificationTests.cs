using System.Net;
using AwsTunnel.Engine.Agent;
using AwsTunnel.Engine.Protocol;
using AwsTunnel.Engine.Service;
using AwsTunnel.Engine.Tunnel;
using AwsTunnel.Tests.Service;
using AwsTunnel.Tests.Support;

namespace AwsTunnel.Tests.Agent;

/// <summary>
/// The local tunneling service standing in for AWS IoT: the Secure Tunneling API's OpenTunnel
/// (destinationConfig.thingName) and RotateTunnelAccessToken publish notifications that a
/// tunnel agent acts on, through the embedded broker or an external one.
/// </summary>
public sealed class LocalServiceNotificationTests
{
    [Fact]
    public async Task OpenTunnel_for_a_thing_reaches_the_agent_and_a_rotation_replaces_its_destination()
    {
        await using var echo = new EchoServer();
        await using var host = await ApiHost.StartAsync();
        var notifier = new TunnelNotifier(host.Service.Registry, await EmbeddedNotificationBroker.StartAsync(IPAddress.Loopback, 0), host.Logs.CreateLogger("notifier"));
        await using var _ = notifier;
        await using var agent = await StartAgentAsync(notifier.Publisher.BrokerUri, host.Service.Endpoint, echo.Port, host.Logs);

        var opened = await host.Client.OkAsync("OpenTunnel", new { destinationConfig = new { thingName = "dev42", services = new[] { "ECHO" } } });
        string id = opened["tunnelId"]!.GetValue<string>();
        var tunnel = host.Service.Registry.Find(id)!;
        // The service sees the WebSocket before the agent lists the tunnel (once its start returns).
        await Eventually.TrueAsync(() => tunnel.DestinationConnected && agent.Tunnels.Count == 1, "the agent's destination to connect", 30000);
        var served = Assert.Single(agent.Tunnels);
        Assert.Equal(id, served.TunnelId);

        await using var source = await StartSourceAsync(host.Service.Endpoint, opened["sourceAccessToken"]!.GetValue<string>());
        await EchoAsync(source, "before the rotation");

        var rotated = await host.Client.OkAsync("RotateTunnelAccessToken", new { tunnelId = id, clientMode = "DESTINATION" });
        Assert.NotEqual(opened["destinationAccessToken"]!.GetValue<string>(), rotated["destinationAccessToken"]!.GetValue<string>());
        await Eventually.TrueAsync(() => agent.Tunnels.Count == 1 && !ReferenceEquals(agent.Tunnels[0], served) && tunnel.DestinationConnected,
            "the agent to replace the destination with the rotated token", 30000);
        Assert.Equal(TunnelState.Ended, served.Client.State);
        Assert.Equal(2, notifier.Published);
        await EchoAsync(source, "after the rotation");
        TokenHygiene.AssertAbsent(host.Logs.All, opened["destinationAccessToken"]!.GetValue<string>(), rotated["destinationAccessToken"]!.GetValue<string>(),
            opened["sourceAccessToken"]!.GetValue<string>());
    }

    [Fact]
    public async Task Tunnels_without_a_thing_publish_nothing()
    {
        await using var host = await ApiHost.StartAsync();
        await using var notifier = new TunnelNotifier(host.Service.Registry, await EmbeddedNotificationBroker.StartAsync(IPAddress.Loopback, 0), host.Logs.CreateLogger("notifier"));
        await host.Client.OkAsync("OpenTunnel", new { destinationConfig = new { services = new[] { "ECHO" } } });
        host.Service.CreateTunnel(new[] { "ECHO" });
        await host.Client.OkAsync("OpenTunnel", new { destinationConfig = new { thingName = "dev42", services = new[] { "ECHO" } } });
        await Eventually.TrueAsync(() => notifier.Published == 1, "the one thing tunnel's notification");
        Assert.Equal(1, notifier.Published);
    }

    [Fact]
    public async Task Notifications_go_to_an_external_broker_and_a_broker_that_is_down_costs_only_its_notifications()
    {
        await using var echo = new EchoServer();
        var broker = await EmbeddedBroker.StartNewAsync();
        await using var __ = broker;
        var logs = new LogCapture();
        await using var service = new LocalTunnelService(new LocalTunnelServiceOptions { LoggerFactory = logs });
        await service.StartAsync();
        await using var notifier = new TunnelNotifier(service.Registry, new ExternalNotificationBroker(broker.Address), logs.CreateLogger("notifier"));
        await using var agent = await StartAgentAsync(broker.Address.ToString(), service.Endpoint, echo.Port, logs);

        var first = service.Registry.Open(new LocalTunnelSpec { Services = new[] { "ECHO" }, ThingName = "dev42" });
        await Eventually.TrueAsync(() => first.DestinationConnected, "the agent to serve the first tunnel", 30000);

        await broker.StopAsync();
        // Before the broker returns: an agent that had not noticed the loss yet would still read as
        // connected below, while its subscription was on the broker that went away.
        await Eventually.TrueAsync(() => !agent.IsBrokerConnected, "the agent to notice the broker is gone", 30000);
        var lost = service.Registry.Open(new LocalTunnelSpec { Services = new[] { "ECHO" }, ThingName = "dev42" });
        await Eventually.TrueAsync(() => logs.All.Contains($"Tunnel {lost.TunnelId} was opened, but its notification"), "the failed publish to be logged", 30000);
        Assert.True(lost.IsOpen);

        await broker.StartAsync();
        await Eventually.TrueAsync(() => agent.IsBrokerConnected && agent.Subscriptions == 2, "the agent to reconnect and subscribe again", 30000);
        var next = service.Registry.Open(new LocalTunnelSpec { Services = new[] { "SSH1" }, ThingName = "dev42" });
        await Eventually.TrueAsync(() => next.DestinationConnected, "the agent to serve a tunnel opened after the broker returned", 30000);
        Assert.Equal(2, notifier.Published);
    }

    private static async Task<TunnelAgent> StartAgentAsync(string broker, Uri endpoint, int echoPort, LogCapture logs)
    {
        var agent = new TunnelAgent(new AgentOptions
        {
            ThingName = "dev42",
            Broker = BrokerAddress.Parse(broker),
            TunnelEndpoint = endpoint,
            Services = ServiceMapping.ParseList($"ECHO=127.0.0.1:{echoPort},SSH1=127.0.0.1:{echoPort}", "test"),
            Settings = TunnelHarness.FastSettings,
            ReconnectDelay = TimeSpan.FromMilliseconds(100),
            MaxReconnectDelay = TimeSpan.FromSeconds(1),
            StartTimeout = TimeSpan.FromSeconds(20),
            LoggerFactory = logs,
        });
        await agent.StartAsync();
        return agent;
    }

    private static async Task<TunnelClient> StartSourceAsync(Uri endpoint, string token)
    {
        var source = new TunnelClient(new TunnelOptions
        {
            Mode = TunnelMode.Source,
            ServiceUri = endpoint,
            AccessToken = token,
            Services = new[] { new ServiceMapping("ECHO", null, 0) },
            Settings = TunnelHarness.FastSettings,
            StartTimeout = TimeSpan.FromSeconds(20),
        });
        await source.StartAsync();
        return source;
    }

    private static async Task EchoAsync(TunnelClient source, string text)
    {
        // The source may still be settling after the destination was replaced: retry a fresh connection a few times.
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                using var socket = await TcpProbe.ConnectAsync(source.Ports["ECHO"]);
                Assert.Equal(text, await TcpProbe.EchoAsync(socket, text));
                return;
            }
            catch (Exception) when (attempt < 5)
            {
                await Task.Delay(500);
            }
        }
    }
}
