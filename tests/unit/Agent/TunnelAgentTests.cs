using AwsTunnel.Engine.Agent;
using AwsTunnel.Engine.Tunnel;
using AwsTunnel.Tests.Support;

namespace AwsTunnel.Tests.Agent;

/// <summary>The agent against MQTTnet's embedded broker: notification → destination → echo, and every failure case.</summary>
public sealed class TunnelAgentTests
{
    [Fact]
    public async Task A_notification_starts_a_destination_that_a_source_echoes_through()
    {
        await using var h = await AgentHarness.StartAsync(await EmbeddedBroker.StartNewAsync());
        var tunnel = await h.OpenAndNotifyAsync("ECHO");
        await h.ServedAsync(tunnel);
        await h.EchoThroughAsync(tunnel);
        var served = Assert.Single(h.Agent.Tunnels);
        Assert.Equal(new[] { "ECHO" }, served.Services);
        Assert.Equal(1, h.Agent.NotificationsReceived);
        Assert.Equal(0, h.Agent.NotificationsSkipped);
    }

    [Fact]
    public async Task A_repeated_notification_keeps_the_one_destination()
    {
        await using var h = await AgentHarness.StartAsync(await EmbeddedBroker.StartNewAsync());
        var tunnel = await h.OpenAndNotifyAsync("ECHO");
        await h.ServedAsync(tunnel);
        var source = await h.EchoThroughAsync(tunnel);
        var first = Assert.Single(h.Agent.Tunnels).Client;

        await h.Broker.PublishAsync(h.NotifyTopic, AgentHarness.PayloadFor(tunnel));
        await Eventually.TrueAsync(() => h.Logs.All.Contains("the repeated notification changes nothing"), "the repeat to be handled");
        Assert.Same(first, Assert.Single(h.Agent.Tunnels).Client);
        Assert.Equal(0, first.Reconnects);
        await h.EchoThroughAsync(tunnel, source: source);
    }

    [Fact]
    public async Task A_rotated_token_for_the_same_services_replaces_the_destination()
    {
        await using var h = await AgentHarness.StartAsync(await EmbeddedBroker.StartNewAsync());
        var first = await h.OpenAndNotifyAsync("ECHO");
        await h.ServedAsync(first);
        var firstClient = Assert.Single(h.Agent.Tunnels).Client;

        // AWS sends no tunnel id: a new token for the same services is the same tunnel, rotated.
        var rotated = await h.OpenAndNotifyAsync("ECHO");
        await h.ServedAsync(rotated);
        var now = Assert.Single(h.Agent.Tunnels);
        Assert.NotSame(firstClient, now.Client);
        Assert.Equal(TunnelState.Ended, firstClient.State);
        await Eventually.TrueAsync(() => !first.DestinationConnected, "the replaced destination to leave the old tunnel");
        await h.EchoThroughAsync(rotated);
        Assert.Contains("Replacing the destination", h.Logs.All);
    }

    [Fact]
    public async Task Notifications_with_different_tunnel_ids_are_served_side_by_side()
    {
        await using var h = await AgentHarness.StartAsync(await EmbeddedBroker.StartNewAsync());
        var one = h.Service.CreateTunnel(new[] { "ECHO" });
        var two = h.Service.CreateTunnel(new[] { "ECHO" });
        await h.Broker.PublishAsync(h.NotifyTopic, AgentHarness.PayloadFor(one, withTunnelId: true));
        await h.Broker.PublishAsync(h.NotifyTopic, AgentHarness.PayloadFor(two, withTunnelId: true));
        await Eventually.TrueAsync(() => one.DestinationConnected && two.DestinationConnected && h.Agent.Tunnels.Count == 2, "both tunnels served", 30000);
        await h.EchoThroughAsync(one);
        await h.EchoThroughAsync(two);
        Assert.Equal(new[] { one.TunnelId, two.TunnelId }.Order(), h.Agent.Tunnels.Select(t => t.TunnelId!).Order());
    }

    [Fact]
    public async Task A_well_known_service_without_a_given_target_goes_to_its_default_port()
    {
        await using var h = await AgentHarness.StartAsync(await EmbeddedBroker.StartNewAsync());
        var tunnel = await h.OpenAndNotifyAsync("SSH", "VNC");
        await h.ServedAsync(tunnel);
        var served = Assert.Single(h.Agent.Tunnels);
        Assert.Equal(new[] { new ServiceMapping("SSH", "localhost", 22), new ServiceMapping("VNC", "localhost", 5900) }, served.Targets);
        Assert.Equal(new[] { "SSH=localhost:22", "VNC=localhost:5900" }, served.Client.Services.Values.Select(m => m.ToString()).Order());
    }

    [Fact]
    public async Task Losing_the_broker_leaves_tunnels_working_and_the_agent_subscribes_again_when_it_returns()
    {
        var broker = await EmbeddedBroker.StartNewAsync();
        await using var h = await AgentHarness.StartAsync(broker);
        await BrokerLossChecks.RunAsync(h);
    }

    [Theory]
    [InlineData("bad-json", "not valid JSON")]
    [InlineData("source-mode", "clientMode is 'source'")]
    [InlineData("no-token", "no clientAccessToken")]
    [InlineData("unknown-service", "no target for FOO")]
    [InlineData("not-an-object", "not an object")]
    [InlineData("no-services", "no services list")]
    public async Task A_bad_notification_is_logged_without_its_token_and_skipped(string kind, string logged)
    {
        await using var h = await AgentHarness.StartAsync(await EmbeddedBroker.StartNewAsync());
        var tunnel = h.Service.CreateTunnel(new[] { "ECHO" });
        string token = tunnel.DestinationAccessToken;
        string payload = kind switch
        {
            "bad-json" => "{\"clientAccessToken\":\"" + token + "\",\"clientMode\":\"destination\",\"region\":",
            "source-mode" => AgentHarness.PayloadFor(tunnel, token: tunnel.SourceAccessToken, mode: "source"),
            "no-token" => "{\"clientMode\":\"destination\",\"region\":\"us-east-1\",\"services\":[\"ECHO\"]}",
            "unknown-service" => AgentHarness.PayloadFor(tunnel, services: new[] { "FOO" }),
            "not-an-object" => "[\"" + token + "\"]",
            "no-services" => "{\"clientAccessToken\":\"" + token + "\",\"clientMode\":\"destination\",\"region\":\"us-east-1\"}",
            _ => throw new ArgumentOutOfRangeException(nameof(kind)),
        };

        await h.Broker.PublishAsync(h.NotifyTopic, payload);
        await Eventually.TrueAsync(() => h.Agent.NotificationsSkipped == 1, $"the {kind} notification to be skipped");
        Assert.Contains(h.Logs.Lines, l => l.StartsWith("Warning AwsTunnel.Agent: Skipped", StringComparison.Ordinal) && l.Contains(logged, StringComparison.Ordinal));
        Assert.Empty(h.Agent.Tunnels);
        Assert.False(tunnel.DestinationConnected);

        // The agent keeps running: the good notification after it is served.
        await h.Broker.PublishAsync(h.NotifyTopic, AgentHarness.PayloadFor(tunnel));
        await h.ServedAsync(tunnel);
        await h.EchoThroughAsync(tunnel);
        TokenHygiene.AssertAbsent(h.Logs.All, token, tunnel.SourceAccessToken);
    }

    [Fact]
    public async Task Tunnels_over_the_cap_are_skipped_until_one_closes()
    {
        await using var h = await AgentHarness.StartAsync(await EmbeddedBroker.StartNewAsync(), o => o with { MaxTunnels = 1 });
        var first = await h.OpenAndNotifyAsync("ECHO");
        await h.ServedAsync(first);

        var second = await h.OpenAndNotifyAsync("SSH1");
        await Eventually.TrueAsync(() => h.Agent.NotificationsSkipped == 1, "the second tunnel to be refused at the cap");
        Assert.Contains("already serving 1 tunnels, the most allowed", h.Logs.All);
        Assert.False(second.DestinationConnected);
        Assert.Single(h.Agent.Tunnels);

        await h.Service.CloseTunnelAsync(first.TunnelId);
        await Eventually.TrueAsync(() => h.Agent.Tunnels.Count == 0, "the closed tunnel to leave the agent");
        await h.Broker.PublishAsync(h.NotifyTopic, AgentHarness.PayloadFor(second));
        await h.ServedAsync(second);
        await h.EchoThroughAsync(second, "SSH1");
    }

    [Fact]
    public async Task No_token_reaches_the_log_at_any_level()
    {
        await using var h = await AgentHarness.StartAsync(await EmbeddedBroker.StartNewAsync());
        var tunnel = await h.OpenAndNotifyAsync("ECHO");
        await h.ServedAsync(tunnel);
        await h.EchoThroughAsync(tunnel);
        await h.Broker.PublishAsync(h.NotifyTopic, AgentHarness.PayloadFor(tunnel));
        var rotated = await h.OpenAndNotifyAsync("ECHO");
        await h.ServedAsync(rotated);
        await h.Broker.PublishAsync(h.NotifyTopic, AgentHarness.PayloadFor(rotated, mode: "source", token: rotated.SourceAccessToken));
        await h.Broker.PublishAsync(h.NotifyTopic, "{\"clientAccessToken\":\"" + rotated.DestinationAccessToken + "\"");
        await Eventually.TrueAsync(() => h.Agent.NotificationsSkipped == 2, "the bad notifications to be skipped");
        await h.Agent.StopAsync();

        // LogCapture records every level, Trace included.
        Assert.Contains(h.Logs.Lines, l => l.StartsWith("Debug", StringComparison.Ordinal));
        TokenHygiene.AssertAbsent(h.Logs.All, tunnel.DestinationAccessToken, tunnel.SourceAccessToken, rotated.DestinationAccessToken, rotated.SourceAccessToken);
        Assert.DoesNotContain(h.Agent.Tunnels.Select(t => t.ToString()), s => s.Contains(rotated.DestinationAccessToken, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Stopping_the_agent_stops_its_destinations()
    {
        await using var h = await AgentHarness.StartAsync(await EmbeddedBroker.StartNewAsync());
        var tunnel = await h.OpenAndNotifyAsync("ECHO");
        await h.ServedAsync(tunnel);
        var client = Assert.Single(h.Agent.Tunnels).Client;
        await h.Agent.StopAsync();
        Assert.Equal(TunnelState.Ended, client.State);
        Assert.True(h.Agent.Completion.IsCompleted);
        await Eventually.TrueAsync(() => !tunnel.DestinationConnected, "the destination to leave the tunnel");
        Assert.False(h.Agent.IsBrokerConnected);
    }

    [Fact]
    public async Task An_unreachable_broker_fails_the_start_naming_it()
    {
        int port = TestPorts.FreeOutsideEphemeralRange();
        var agent = new TunnelAgent(new AgentOptions
        {
            ThingName = AgentHarness.Thing,
            Broker = new BrokerAddress("127.0.0.1", port, UseTls: false),
            ReconnectDelay = TimeSpan.FromMilliseconds(100),
            MaxReconnectDelay = TimeSpan.FromMilliseconds(500),
            StartTimeout = TimeSpan.FromSeconds(2),
        });
        var ex = await Assert.ThrowsAsync<AgentStartException>(() => agent.StartAsync());
        Assert.Contains($"mqtt://127.0.0.1:{port}", ex.Message);
        Assert.Contains("within 2 s", ex.Message);
        Assert.True(agent.Completion.IsCompleted);
    }
}

/// <summary>The broker-loss scenario, run against each broker.</summary>
internal static class BrokerLossChecks
{
    public static async Task RunAsync(AgentHarness h)
    {
        var tunnel = await h.OpenAndNotifyAsync("ECHO");
        await h.ServedAsync(tunnel);
        var source = await h.EchoThroughAsync(tunnel);
        Assert.Equal(1, h.Agent.Subscriptions);

        await h.Broker.StopAsync();
        await Eventually.TrueAsync(() => !h.Agent.IsBrokerConnected, "the agent to notice the broker is gone");
        await h.EchoThroughAsync(tunnel, source: source);
        Assert.Equal(TunnelState.Connected, Assert.Single(h.Agent.Tunnels).Client.State);

        await h.Broker.StartAsync();
        await Eventually.TrueAsync(() => h.Agent.IsBrokerConnected && h.Agent.Subscriptions == 2, "the agent to reconnect and subscribe again", 30000);
        await h.EchoThroughAsync(tunnel, source: source);
        var next = await h.OpenAndNotifyAsync("SSH1");
        await Eventually.TrueAsync(() => next.DestinationConnected, "a tunnel opened after the return to be served", 30000);
        await h.EchoThroughAsync(next, "SSH1");
        Assert.Equal(2, h.Agent.Tunnels.Count);
    }
}

/// <summary>Access tokens must never appear in what the agent logs.</summary>
internal static class TokenHygiene
{
    public static void AssertAbsent(string log, params string[] tokens)
    {
        foreach (var token in tokens)
        {
            Assert.False(log.Contains(token, StringComparison.Ordinal), "An access token appears in the log.");
            // Nor a recognisable piece of it.
            Assert.False(log.Contains(token[..Math.Min(16, token.Length)], StringComparison.Ordinal), "The start of an access token appears in the log.");
        }
    }
}
