using AwsTunnel.Engine.Agent;
using AwsTunnel.Tests.Settings;

namespace AwsTunnel.Tests.Agent;

/// <summary>The agent against Debian's mosquitto with mutual TLS, as a device against AWS IoT Core.</summary>
public sealed class MosquittoAgentTests
{
    [MosquittoFact]
    public async Task Over_mutual_TLS_a_notification_starts_a_destination_that_a_source_echoes_through()
    {
        await using var h = await AgentHarness.StartAsync(await MosquittoBroker.StartNewAsync());
        var tunnel = await h.OpenAndNotifyAsync("ECHO");
        await h.ServedAsync(tunnel);
        await h.EchoThroughAsync(tunnel);
        Assert.Contains("Connected to the MQTT broker mqtts://127.0.0.1:", h.Logs.All);
        TokenHygiene.AssertAbsent(h.Logs.All, tunnel.DestinationAccessToken, tunnel.SourceAccessToken);
    }

    [MosquittoFact]
    public async Task Mosquitto_going_away_leaves_tunnels_working_and_the_agent_subscribes_again()
    {
        await using var h = await AgentHarness.StartAsync(await MosquittoBroker.StartNewAsync());
        await BrokerLossChecks.RunAsync(h);
    }

    [MosquittoFact]
    public async Task A_rotated_token_through_mosquitto_replaces_the_destination()
    {
        await using var h = await AgentHarness.StartAsync(await MosquittoBroker.StartNewAsync());
        var first = await h.OpenAndNotifyAsync("ECHO");
        await h.ServedAsync(first);
        var rotated = await h.OpenAndNotifyAsync("ECHO");
        await h.ServedAsync(rotated);
        await h.EchoThroughAsync(rotated);
        Assert.Single(h.Agent.Tunnels);
    }

    [MosquittoFact]
    public async Task A_device_certificate_the_broker_does_not_know_is_refused_at_start()
    {
        await using var broker = await MosquittoBroker.StartNewAsync();
        using var stranger = TestCertificateAuthority.CreateRoot("Some Other CA");
        using var foreign = stranger.IssueClient("dev42");
        var options = broker.Configure(new AgentOptions { ThingName = AgentHarness.Thing, Broker = broker.Address, StartTimeout = TimeSpan.FromSeconds(10) })
            with { ClientCertificate = foreign };
        await using var agent = new TunnelAgent(options);
        var ex = await Assert.ThrowsAnyAsync<AgentStartException>(() => agent.StartAsync());
        Assert.Contains(broker.Address.ToString(), ex.Message);
    }

    [MosquittoFact]
    public async Task A_broker_certificate_from_an_untrusted_CA_is_refused_naming_the_fix()
    {
        await using var broker = await MosquittoBroker.StartNewAsync();
        using var stranger = TestCertificateAuthority.CreateRoot("Some Other CA");
        var options = broker.Configure(new AgentOptions { ThingName = AgentHarness.Thing, Broker = broker.Address, StartTimeout = TimeSpan.FromSeconds(10) })
            with { BrokerTrustedCertificates = new(stranger.Certificate) };
        await using var agent = new TunnelAgent(options);
        var ex = await Assert.ThrowsAsync<AgentStartException>(() => agent.StartAsync());
        Assert.Contains("TLS handshake", ex.Message);
        Assert.Contains("CA certificate", ex.Message);
    }
}
