using AwsTunnel.Engine.Protocol;
using AwsTunnel.Tests.Cli;

namespace AwsTunnel.Tests.Interop;

/// <summary>
/// <c>awstunnel</c> against the reference C++ localproxy (<c>LOCALPROXY</c>; skipped without it), on
/// the local tunneling service over wss: both directions, V3 and V2 links, V1 through <c>-y V1</c> (the
/// reference cannot run on a V1 link: it waits for SERVICE_IDS, which V1 does not send), <c>-y</c>,
/// several services, an unnamed port, a restart with the same client token, and the client that
/// speaks first on a fresh tunnel (issue 13 item 8: STREAM_START must travel alone).
/// </summary>
[Collection(InteropCollection.Name)]
public class ReferenceInteropTests
{
    [ReferenceTheory]
    [InlineData(ProtocolVersion.V3)]
    [InlineData(ProtocolVersion.V2)]
    public async Task Our_source_reaches_a_reference_destination(ProtocolVersion protocol)
    {
        await using var rig = await InteropRig.StartAsync(protocol);
        var tunnel = rig.NewTunnel("SSH1");
        await rig.ReferenceDestinationAsync(tunnel, rig.Target("SSH1"));
        var (_, ports) = await rig.OurSourceAsync(tunnel, "SSH1=0");

        await rig.AssertEchoAsync(ports["SSH1"], $"ours to the reference over {protocol}");
        await rig.AssertEchoAsync(ports["SSH1"], "and a second connection after the first");
    }

    [ReferenceTheory]
    [InlineData(ProtocolVersion.V3)]
    [InlineData(ProtocolVersion.V2)]
    public async Task A_reference_source_reaches_our_destination(ProtocolVersion protocol)
    {
        await using var rig = await InteropRig.StartAsync(protocol);
        var tunnel = rig.NewTunnel("SSH1");
        await rig.OurDestinationAsync(tunnel, rig.Target("SSH1"));
        var (_, ports) = await rig.ReferenceSourceAsync(tunnel, new[] { "SSH1" });

        await rig.AssertEchoAsync(ports[0], $"the reference to ours over {protocol}");
        await rig.AssertEchoAsync(ports[0], "and a second connection after the first");
    }

    [ReferenceTheory]
    [InlineData("V1")]
    [InlineData("V2")]
    public async Task Our_source_with_y_reaches_a_reference_destination(string clientType)
    {
        await using var rig = await InteropRig.StartAsync();
        var tunnel = rig.NewTunnel("SSH1");
        // -y V1 drops service ids, as the reference's own source does; a reference destination takes
        // such streams only when it is told the same (-y V1 fills in its one service id).
        await rig.ReferenceDestinationAsync(tunnel, rig.Target("SSH1"), "-y", clientType);
        var (_, ports) = await rig.OurSourceAsync(tunnel, "SSH1=0", new[] { "-y", clientType });

        await rig.AssertEchoAsync(ports["SSH1"], $"ours with -y {clientType}");
        await rig.AssertEchoAsync(ports["SSH1"], "and again");
    }

    [ReferenceTheory]
    [InlineData("V1")]
    [InlineData("V2")]
    public async Task A_reference_source_with_y_reaches_our_destination(string clientType)
    {
        await using var rig = await InteropRig.StartAsync();
        var tunnel = rig.NewTunnel("SSH1");
        await rig.OurDestinationAsync(tunnel, rig.Target("SSH1"), "-y", clientType);
        var (source, ports) = await rig.ReferenceSourceAsync(tunnel, new[] { "SSH1" }, "-y", clientType);

        await rig.AssertEchoAsync(ports[0], $"the reference with -y {clientType}");
        // With V1/V2 the reference closes its listener after each connection and opens it again.
        await source.WaitForLineAsync(new System.Text.RegularExpressions.Regex($"Listening for new connection on port {ports[0]}\\b"), occurrence: 2);
        await rig.AssertEchoAsync(ports[0], "and again");
    }

    [ReferenceFact]
    public async Task A_client_that_speaks_first_on_a_fresh_tunnel_is_answered_20_times_out_of_20()
    {
        await using var rig = await InteropRig.StartAsync();
        for (int run = 1; run <= 20; run++)
        {
            // Each run is a fresh tunnel whose first stream is the client's: the source's listener is
            // found from its printed line, never by a probe connection, which would take that stream.
            var tunnel = rig.NewTunnel("HTTP");
            var destination = await rig.ReferenceDestinationAsync(tunnel, rig.Target("HTTP"));
            var (source, ports) = await rig.OurSourceAsync(tunnel, "HTTP=0");

            await rig.AssertEchoAsync(ports["HTTP"], $"GET /run-{run} HTTP/1.1\r\nHost: device\r\n\r\n");

            Assert.Equal(0, await InteropRig.StopAsync(source));
            await destination.DisposeAsync();
        }
    }

    [ReferenceFact]
    public async Task Several_services_work_in_both_directions()
    {
        await using var rig = await InteropRig.StartAsync();
        string targets = $"{rig.Target("SSH1")},{rig.Target("HTTP")}";

        var first = rig.NewTunnel("SSH1", "HTTP");
        await rig.ReferenceDestinationAsync(first, targets);
        var (_, ours) = await rig.OurSourceAsync(first, "SSH1=0,HTTP=0");
        await rig.AssertEchoAsync(ours["SSH1"], "ours, SSH1");
        await rig.AssertEchoAsync(ours["HTTP"], "ours, HTTP");

        var second = rig.NewTunnel("SSH1", "HTTP");
        await rig.OurDestinationAsync(second, targets);
        var (_, theirs) = await rig.ReferenceSourceAsync(second, new[] { "SSH1", "HTTP" });
        await rig.AssertEchoAsync(theirs[0], "the reference, SSH1");
        await rig.AssertEchoAsync(theirs[1], "the reference, HTTP");
    }

    [ReferenceFact]
    public async Task An_unnamed_port_works_in_both_directions()
    {
        await using var rig = await InteropRig.StartAsync();

        var first = rig.NewTunnel("SSH1");
        await rig.ReferenceDestinationAsync(first, rig.Target());
        var (_, ours) = await rig.OurSourceAsync(first, "0");
        await rig.AssertEchoAsync(ours["SSH1"], "ours, unnamed, to the reference's unnamed target");

        var second = rig.NewTunnel("SSH1");
        await rig.OurDestinationAsync(second, rig.Target());
        var (_, theirs) = await rig.ReferenceSourceAsync(second, Array.Empty<string>());
        await rig.AssertEchoAsync(theirs[0], "the reference, unnamed, to our unnamed target");
    }

    [ReferenceFact]
    public async Task Our_source_restarted_with_the_same_client_token_gets_the_tunnel_back()
    {
        await using var rig = await InteropRig.StartAsync();
        var tunnel = rig.NewTunnel("SSH1");
        var environment = new Dictionary<string, string?> { ["AWSIOT_TUNNEL_CLIENT_TOKEN"] = Guid.NewGuid().ToString("D") };
        rig.ReferenceEnvironment["AWSIOT_TUNNEL_CLIENT_TOKEN"] = Guid.NewGuid().ToString("D");

        for (int start = 1; start <= 2; start++)
        {
            // The reference destination is started afresh each time (with its own client token, so the
            // service lets it back in): after the service's SESSION_RESET it waits for a SERVICE_IDS
            // that the local service does not send again.
            var destination = await rig.ReferenceDestinationAsync(tunnel, rig.Target("SSH1"));
            var (source, ports) = await rig.OurSourceAsync(tunnel, "SSH1=0", environment: new Dictionary<string, string?>(environment));
            await rig.AssertEchoAsync(ports["SSH1"], $"start {start}");
            Assert.Equal(0, await InteropRig.StopAsync(source));
            await destination.DisposeAsync();
        }
    }
}

/// <summary>The interop tests run one at a time: each starts several processes on a 2-core machine.</summary>
[CollectionDefinition(InteropCollection.Name, DisableParallelization = true)]
public sealed class InteropCollection
{
    public const string Name = "reference localproxy interop";
}
