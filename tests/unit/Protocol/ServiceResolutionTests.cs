using AwsTunnel.Engine.Protocol;
using AwsTunnel.Engine.Tunnel;
using AwsTunnel.Tests.Support;

namespace AwsTunnel.Tests.Protocol;

public class ServiceResolutionTests
{
    private static IReadOnlyList<ServiceMapping> Local(string text) => ServiceMapping.ParseList(text, "-s");

    [Theory]
    [InlineData(TunnelMode.Source, "SSH1=5555,HTTP=8080")]
    [InlineData(TunnelMode.Destination, "SSH1=10.0.0.1:22,HTTP=127.0.0.1:80")]
    public void Local_mappings_that_match_the_announced_services_exactly_are_used_as_given(TunnelMode mode, string text)
    {
        var local = Local(text);

        var resolved = ServiceResolution.Resolve(mode, local, new[] { "HTTP", "SSH1" });

        Assert.Equal(2, resolved.Count);
        Assert.Equal(local[0], resolved["SSH1"]);
        Assert.Equal(local[1], resolved["HTTP"]);
    }

    [Fact]
    public void A_source_without_a_mapping_for_an_announced_service_gets_port_zero_for_it()
    {
        var resolved = ServiceResolution.Resolve(TunnelMode.Source, Local("SSH1=5555"), new[] { "SSH1", "HTTP" });

        Assert.Equal(new ServiceMapping("SSH1", null, 5555), resolved["SSH1"]);
        Assert.Equal(new ServiceMapping("HTTP", null, 0), resolved["HTTP"]);
    }

    [Fact]
    public void A_source_with_no_mappings_at_all_gets_port_zero_for_every_announced_service()
    {
        var resolved = ServiceResolution.Resolve(TunnelMode.Source, Array.Empty<ServiceMapping>(), new[] { "SSH1", "HTTP" });

        Assert.Equal(new ServiceMapping("SSH1", null, 0), resolved["SSH1"]);
        Assert.Equal(new ServiceMapping("HTTP", null, 0), resolved["HTTP"]);
    }

    [Fact]
    public void A_destination_without_a_target_for_an_announced_service_cannot_start()
    {
        var ex = Assert.Throws<TunnelStartException>(() =>
            ServiceResolution.Resolve(TunnelMode.Destination, Local("SSH1=10.0.0.1:22"), new[] { "SSH1", "HTTP" }));

        Assert.Equal(TunnelStartFailure.ServiceMismatch, ex.Failure);
        Assert.Contains("[SSH1, HTTP]", ex.Message);
        Assert.Contains("[SSH1]", ex.Message);
        Assert.Contains("HTTP=HOST:PORT", ex.Message);
    }

    [Theory]
    [InlineData(TunnelMode.Source, "SSH1=5555,RDP=3389")]
    [InlineData(TunnelMode.Destination, "SSH1=10.0.0.1:22,RDP=10.0.0.1:3389")]
    public void A_local_service_the_tunnel_did_not_announce_is_rejected_listing_both_sets(TunnelMode mode, string text)
    {
        var ex = Assert.Throws<TunnelStartException>(() =>
            ServiceResolution.Resolve(mode, Local(text), new[] { "SSH1", "HTTP" }));

        Assert.Equal(TunnelStartFailure.ServiceMismatch, ex.Failure);
        Assert.Contains("[SSH1, HTTP]", ex.Message);
        Assert.Contains("[SSH1, RDP]", ex.Message);
        Assert.Contains("not opened with RDP", ex.Message);
    }

    [Theory]
    [InlineData(TunnelMode.Source, "5555", null)]
    [InlineData(TunnelMode.Destination, "10.0.0.1:22", "10.0.0.1")]
    public void A_single_unnamed_mapping_takes_the_name_of_the_single_announced_service(TunnelMode mode, string text, string? host)
    {
        var resolved = ServiceResolution.Resolve(mode, Local(text), new[] { "SSH1" });

        var only = Assert.Single(resolved);
        Assert.Equal("SSH1", only.Key);
        Assert.Equal("SSH1", only.Value.ServiceId);
        Assert.Equal(host, only.Value.Host);
    }

    [Fact]
    public void An_unnamed_source_port_on_a_tunnel_with_several_services_serves_the_first_and_the_others_get_free_ports()
    {
        var logs = new LogCapture();

        var resolved = ServiceResolution.Resolve(TunnelMode.Source, Local("5555"), new[] { "SSH1", "HTTP" }, logs.CreateLogger("test"));

        Assert.Equal(new ServiceMapping("SSH1", null, 5555), resolved["SSH1"]);
        Assert.Equal(new ServiceMapping("HTTP", null, 0), resolved["HTTP"]);
        var warning = Assert.Single(logs.Lines);
        Assert.Contains("5555", warning);
        Assert.Contains("SSH1=5555", warning);
    }

    [Fact]
    public void An_unnamed_destination_target_on_a_tunnel_with_several_services_takes_every_service()
    {
        var logs = new LogCapture();

        var resolved = ServiceResolution.Resolve(TunnelMode.Destination, Local("22"), new[] { "SSH1", "HTTP" }, logs.CreateLogger("test"));

        Assert.Equal(new ServiceMapping("SSH1", null, 22), resolved["SSH1"]);
        Assert.Equal(new ServiceMapping("HTTP", null, 22), resolved["HTTP"]);
        Assert.Contains("SSH1, HTTP", Assert.Single(logs.Lines));
    }

    [Fact]
    public void An_unnamed_mapping_next_to_named_ones_is_rejected()
    {
        var local = new[] { new ServiceMapping("SSH1", null, 5555), new ServiceMapping("", null, 6666) };

        var ex = Assert.Throws<TunnelStartException>(() =>
            ServiceResolution.Resolve(TunnelMode.Source, local, new[] { "SSH1", "HTTP" }));

        Assert.Equal(TunnelStartFailure.ServiceMismatch, ex.Failure);
        Assert.Contains("service id", ex.Message);
    }

    [Theory]
    [InlineData(TunnelMode.Source, "SSH1=5555")]
    [InlineData(TunnelMode.Source, "5555")]
    [InlineData(TunnelMode.Destination, "10.0.0.1:22")]
    public void Without_announced_services_a_single_mapping_becomes_the_unnamed_v1_stream(TunnelMode mode, string text)
    {
        var local = Local(text);

        var resolved = ServiceResolution.Resolve(mode, local, null);

        var only = Assert.Single(resolved);
        Assert.Equal("", only.Key);
        Assert.Equal(local[0] with { ServiceId = "" }, only.Value);
    }

    [Fact]
    public void An_empty_announced_list_is_treated_like_no_list()
    {
        var resolved = ServiceResolution.Resolve(TunnelMode.Source, Local("5555"), Array.Empty<string>());

        Assert.Equal("", Assert.Single(resolved).Key);
    }

    [Fact]
    public void Without_announced_services_a_source_with_no_mapping_listens_on_a_free_port()
    {
        var resolved = ServiceResolution.Resolve(TunnelMode.Source, Array.Empty<ServiceMapping>(), null);

        Assert.Equal(new ServiceMapping("", null, 0), Assert.Single(resolved).Value);
    }

    [Fact]
    public void Without_announced_services_two_mappings_are_rejected()
    {
        var ex = Assert.Throws<TunnelStartException>(() =>
            ServiceResolution.Resolve(TunnelMode.Source, Local("SSH1=5555,HTTP=8080"), null));

        Assert.Equal(TunnelStartFailure.ServiceMismatch, ex.Failure);
        Assert.Contains("[SSH1, HTTP]", ex.Message);
        Assert.Contains("V1", ex.Message);
    }

    [Fact]
    public void Service_ids_are_matched_case_sensitively()
    {
        var ex = Assert.Throws<TunnelStartException>(() =>
            ServiceResolution.Resolve(TunnelMode.Source, Local("ssh1=5555"), new[] { "SSH1" }));

        Assert.Equal(TunnelStartFailure.ServiceMismatch, ex.Failure);
    }
}
