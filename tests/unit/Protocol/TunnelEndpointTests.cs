using AwsTunnel.Engine.Protocol;
using AwsTunnel.Engine.Settings;
using AwsTunnel.Engine.Transport;

namespace AwsTunnel.Tests.Protocol;

public class TunnelEndpointTests
{
    private static readonly ProxySettings Defaults = ProxySettings.Default;

    [Fact]
    public void A_region_resolves_to_the_regional_data_endpoint_over_wss_on_443()
    {
        var uri = TunnelEndpoint.Resolve("us-east-1", null, Defaults);

        Assert.Equal("wss", uri.Scheme);
        Assert.Equal("data.tunneling.iot.us-east-1.amazonaws.com", uri.Host);
        Assert.Equal(443, uri.Port);
    }

    [Fact]
    public void A_china_region_resolves_to_the_amazonaws_com_cn_domain()
    {
        var uri = TunnelEndpoint.Resolve("cn-north-1", null, Defaults);

        Assert.Equal("data.tunneling.iot.cn-north-1.amazonaws.com.cn", uri.Host);
    }

    [Fact]
    public void A_region_override_takes_precedence_over_the_endpoint_format()
    {
        var settings = ProxySettings.Default with
        {
            RegionEndpointOverrides = new Dictionary<string, string> { ["us-east-1"] = "tunnel.internal.example" },
        };

        var uri = TunnelEndpoint.Resolve("us-east-1", null, settings);

        Assert.Equal("wss", uri.Scheme);
        Assert.Equal("tunnel.internal.example", uri.Host);
    }

    [Fact]
    public void A_region_override_does_not_affect_other_regions()
    {
        var settings = ProxySettings.Default with
        {
            RegionEndpointOverrides = new Dictionary<string, string> { ["us-east-1"] = "tunnel.internal.example" },
        };

        var uri = TunnelEndpoint.Resolve("eu-west-2", null, settings);

        Assert.Equal("data.tunneling.iot.eu-west-2.amazonaws.com", uri.Host);
    }

    [Fact]
    public void A_region_override_for_a_china_region_is_used_verbatim()
    {
        var settings = ProxySettings.Default with
        {
            RegionEndpointOverrides = new Dictionary<string, string> { ["cn-north-1"] = "data.tunneling.iot.cn-north-1.amazonaws.com" },
        };

        var uri = TunnelEndpoint.Resolve("cn-north-1", null, settings);

        Assert.Equal("data.tunneling.iot.cn-north-1.amazonaws.com", uri.Host);
    }

    [Fact]
    public void A_custom_endpoint_format_is_filled_with_the_region()
    {
        var settings = ProxySettings.Default with { EndpointFormat = "tunnel.%s.example.org" };

        var uri = TunnelEndpoint.Resolve("ap-south-1", null, settings);

        Assert.Equal("tunnel.ap-south-1.example.org", uri.Host);
    }

    [Fact]
    public void An_endpoint_given_as_host_and_port_uses_wss_on_that_port()
    {
        var uri = TunnelEndpoint.Resolve(null, "host:1234", Defaults);

        Assert.Equal("wss", uri.Scheme);
        Assert.Equal("host", uri.Host);
        Assert.Equal(1234, uri.Port);
    }

    [Fact]
    public void An_endpoint_given_as_a_bare_host_uses_wss_on_443()
    {
        var uri = TunnelEndpoint.Resolve(null, "tunnel.example.com", Defaults);

        Assert.Equal("wss", uri.Scheme);
        Assert.Equal("tunnel.example.com", uri.Host);
        Assert.Equal(443, uri.Port);
    }

    [Fact]
    public void A_ws_endpoint_keeps_its_scheme_host_and_port()
    {
        var uri = TunnelEndpoint.Resolve(null, "ws://127.0.0.1:8080", Defaults);

        Assert.Equal("ws", uri.Scheme);
        Assert.Equal("127.0.0.1", uri.Host);
        Assert.Equal(8080, uri.Port);
    }

    [Fact]
    public void An_endpoint_uri_loses_any_path_and_query()
    {
        var uri = TunnelEndpoint.Resolve(null, "wss://tunnel.example.com:9443/some/path?x=1", Defaults);

        Assert.Equal("wss://tunnel.example.com:9443/", uri.AbsoluteUri);
    }

    [Fact]
    public void An_ipv6_endpoint_keeps_its_address_and_port()
    {
        var uri = TunnelEndpoint.Resolve(null, "[::1]:8443", Defaults);

        Assert.Equal("wss", uri.Scheme);
        Assert.Equal("[::1]", uri.Host);
        Assert.Equal(8443, uri.Port);
    }

    [Fact]
    public void A_region_and_an_endpoint_together_are_rejected()
    {
        var ex = Assert.Throws<ArgumentException>(() => TunnelEndpoint.Resolve("us-east-1", "host:1234", Defaults));

        Assert.Contains("mutually exclusive", ex.Message);
    }

    [Theory]
    [InlineData(null, null)]
    [InlineData("", "")]
    [InlineData("  ", null)]
    [InlineData(null, " ")]
    public void Neither_a_region_nor_an_endpoint_is_rejected(string? region, string? endpoint)
    {
        var ex = Assert.Throws<ArgumentException>(() => TunnelEndpoint.Resolve(region, endpoint, Defaults));

        Assert.Contains("No region or endpoint", ex.Message);
    }

    [Theory]
    [InlineData("US_EAST")]
    [InlineData("us_east_1")]
    [InlineData("-us-east-1")]
    [InlineData("us-east-1-")]
    [InlineData("us east 1")]
    [InlineData("us-east-1.evil.example/x")]
    public void A_malformed_region_is_rejected_naming_it(string region)
    {
        var ex = Assert.Throws<ArgumentException>(() => TunnelEndpoint.Resolve(region, null, Defaults));

        Assert.Contains($"'{region}'", ex.Message);
    }

    [Theory]
    [InlineData("ftp://x")]
    [InlineData("https://tunnel.example.com")]
    [InlineData("wss://")]
    [InlineData("host:notaport")]
    public void An_endpoint_that_is_not_a_websocket_address_is_rejected(string endpoint)
    {
        var ex = Assert.Throws<ArgumentException>(() => TunnelEndpoint.Resolve(null, endpoint, Defaults));

        Assert.Contains(endpoint, ex.Message);
    }

    [Fact]
    public void The_handshake_uri_targets_tunnel_with_the_source_mode_query()
    {
        var service = TunnelEndpoint.Resolve("us-east-1", null, Defaults);

        var uri = TunnelEndpoint.HandshakeUri(service, TunnelMode.Source);

        Assert.Equal("/tunnel", uri.AbsolutePath);
        Assert.Equal("?local-proxy-mode=source", uri.Query);
        Assert.Equal("wss://data.tunneling.iot.us-east-1.amazonaws.com/tunnel?local-proxy-mode=source", uri.AbsoluteUri);
    }

    [Fact]
    public void The_handshake_uri_for_a_destination_keeps_the_endpoint_port()
    {
        var service = TunnelEndpoint.Resolve(null, "ws://127.0.0.1:8080", Defaults);

        var uri = TunnelEndpoint.HandshakeUri(service, TunnelMode.Destination);

        Assert.Equal("ws://127.0.0.1:8080/tunnel?local-proxy-mode=destination", uri.AbsoluteUri);
    }
}
