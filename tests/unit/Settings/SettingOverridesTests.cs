using AwsTunnel.Engine.Settings;

namespace AwsTunnel.Tests.Settings;

/// <summary>One-off overrides such as <c>-Setting @{ 'websocket.ping_period_ms' = 10000 }</c>.</summary>
public class SettingOverridesTests
{
    private static IReadOnlyDictionary<string, string> Map(params (string Key, string Value)[] pairs) =>
        pairs.ToDictionary(p => p.Key, p => p.Value);

    [Fact]
    public void A_relative_key_overrides_one_setting()
    {
        var settings = ProxySettingsJson.ApplyOverrides(ProxySettings.Default, Map(("websocket.ping_period_ms", "10000")));

        Assert.Equal(ProxySettings.Default with { WebSocketPingPeriodMs = 10000 }, settings);
    }

    [Fact]
    public void The_full_prefix_and_any_case_are_accepted()
    {
        var settings = ProxySettingsJson.ApplyOverrides(ProxySettings.Default, Map(
            ("tunneling.proxy.tcp.max_active_connections", "3"),
            ("WebSocket.Reconnect_On_Data_Error", "False"),
            ("default_bind_address", "0.0.0.0")));

        Assert.Equal(3, settings.TcpMaxActiveConnections);
        Assert.False(settings.WebSocketReconnectOnDataError);
        Assert.Equal("0.0.0.0", settings.DefaultBindAddress);
    }

    [Fact]
    public void Overrides_apply_on_top_of_a_loaded_file()
    {
        var fromFile = ProxySettingsJson.Parse("""{"tunneling":{"proxy":{"tcp":{"connection_retry_count":"9"}}}}""");

        var settings = ProxySettingsJson.ApplyOverrides(fromFile, Map(("tcp.connection_retry_delay_ms", "10")));

        Assert.Equal(9, settings.TcpConnectionRetryCount);
        Assert.Equal(10, settings.TcpConnectionRetryDelayMs);
    }

    [Fact]
    public void A_region_endpoint_override_adds_one_region_and_keeps_the_others()
    {
        var start = ProxySettings.Default with { RegionEndpointOverrides = new Dictionary<string, string> { ["eu-west-1"] = "a.example.com" } };

        var settings = ProxySettingsJson.ApplyOverrides(start, Map(("region_endpoint_overrides.us-east-1", "b.example.com:8443")));

        Assert.Equal("a.example.com", settings.RegionEndpointOverrides["eu-west-1"]);
        Assert.Equal("b.example.com:8443", settings.RegionEndpointOverrides["us-east-1"]);
        Assert.Single(start.RegionEndpointOverrides);
    }

    [Fact]
    public void The_awstunnel_keys_are_overridable()
    {
        var settings = ProxySettingsJson.ApplyOverrides(ProxySettings.Default, Map(
            ("awstunnel.connection_buffer_limit_bytes", "1048576"),
            ("awstunnel.connection_stall_timeout_ms", "500"),
            ("awstunnel.websocket_socket_buffer_bytes", "0")));

        Assert.Equal(1048576, settings.ConnectionBufferLimitBytes);
        Assert.Equal(500, settings.ConnectionStallTimeoutMs);
        Assert.Equal(0, settings.WebSocketSocketBufferBytes);
    }

    [Fact]
    public void An_unknown_key_is_an_error_listing_the_valid_keys()
    {
        var error = Assert.Throws<SettingsException>(() =>
            ProxySettingsJson.ApplyOverrides(ProxySettings.Default, Map(("websocket.ping_period", "10000")), "-Setting"));

        Assert.StartsWith("-Setting: 'websocket.ping_period' is not a settings key", error.Message);
        Assert.Contains("websocket.ping_period_ms", error.Message);
        Assert.Equal("websocket.ping_period", error.Key);
    }

    [Fact]
    public void A_malformed_value_names_the_key_and_the_value()
    {
        var error = Assert.Throws<SettingsException>(() =>
            ProxySettingsJson.ApplyOverrides(ProxySettings.Default, Map(("tcp.max_active_connections", "0")), "-Setting"));

        Assert.Contains("'tunneling.proxy.tcp.max_active_connections' has the value '0'", error.Message);
        Assert.Contains("1 or more", error.Message);
    }

    [Fact]
    public void A_malformed_region_override_names_the_region()
    {
        var error = Assert.Throws<SettingsException>(() =>
            ProxySettingsJson.ApplyOverrides(ProxySettings.Default, Map(("region_endpoint_overrides.us-east-1", "http://x"))));

        Assert.Contains("region_endpoint_overrides.us-east-1", error.Message);
        Assert.Contains("'http://x'", error.Message);
    }

    [Fact]
    public void No_overrides_returns_the_same_settings()
    {
        var start = ProxySettings.Default with { TcpMaxActiveConnections = 5 };

        Assert.Equal(start, ProxySettingsJson.ApplyOverrides(start, new Dictionary<string, string>()));
    }
}
