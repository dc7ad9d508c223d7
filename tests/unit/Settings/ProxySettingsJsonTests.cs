using System.Reflection;
using System.Text.Json;
using AwsTunnel.Engine.Settings;
using AwsTunnel.Tests.Support;

namespace AwsTunnel.Tests.Settings;

/// <summary>lpsettings.json: the reference's shape in and out, defaults for missing keys, clear errors.</summary>
public class ProxySettingsJsonTests
{
    private const string ReferenceExport = """
        {
            "tunneling": {
                "proxy": {
                    "default_bind_address": "localhost",
                    "message": {
                        "data_length_size": "2",
                        "max_payload_size": "64512",
                        "max_size": "65536",
                        "data_frame_max_size": "65538"
                    },
                    "tcp": {
                        "connection_retry_count": "5",
                        "connection_retry_delay_ms": "1000",
                        "read_buffer_size": "131076",
                        "write_buffer_size": "131076",
                        "max_active_connections": "64"
                    },
                    "websocket": {
                        "ping_period_ms": "5000",
                        "retry_delay_ms": "2500",
                        "connect_retry_count": "-1",
                        "reconnect_on_data_error": "true",
                        "subprotocol": "aws.iot.securetunneling-1.0",
                        "max_frame_size": "131076",
                        "write_buffer_size": "131076",
                        "read_buffer_size": "131076"
                    },
                    "region_endpoint_overrides": {
                        "cn-north-1": "data.tunneling.iot.cn-north-1.amazonaws.com.cn",
                        "cn-northwest-1": "data.tunneling.iot.cn-northwest-1.amazonaws.com.cn"
                    }
                }
            }
        }
        """;

    [Fact]
    public void A_file_exported_by_the_reference_proxy_is_read_without_warnings()
    {
        var logs = new LogCapture();

        var settings = ProxySettingsJson.Parse(ReferenceExport, logs.CreateLogger("test"), "lpsettings.json");

        Assert.Equal(1000, settings.TcpConnectionRetryDelayMs);
        Assert.Equal(64, settings.TcpMaxActiveConnections);
        Assert.Equal(5000, settings.WebSocketPingPeriodMs);
        Assert.Equal("aws.iot.securetunneling-1.0", settings.WebSocketSubprotocol);
        Assert.Equal("data.tunneling.iot.cn-north-1.amazonaws.com.cn", settings.RegionEndpointOverrides["cn-north-1"]);
        Assert.DoesNotContain(logs.Lines, l => l.StartsWith("Warning"));
    }

    [Fact]
    public void Missing_keys_keep_their_defaults()
    {
        var settings = ProxySettingsJson.Parse("""{"tunneling":{"proxy":{"websocket":{"ping_period_ms":"10000"}}}}""");

        Assert.Equal(ProxySettings.Default with { WebSocketPingPeriodMs = 10000 }, settings);
        Assert.Equal(ProxySettings.Default, ProxySettingsJson.Parse("{}"));
        Assert.Equal(ProxySettings.Default, ProxySettingsJson.Parse("""{"tunneling":{"proxy":{}}}"""));
    }

    [Fact]
    public void Json_numbers_and_booleans_are_accepted_as_well_as_strings()
    {
        var settings = ProxySettingsJson.Parse("""
            {"tunneling":{"proxy":{"tcp":{"max_active_connections":16},"websocket":{"reconnect_on_data_error":false,"connect_retry_count":-1}}}}
            """);

        Assert.Equal(16, settings.TcpMaxActiveConnections);
        Assert.False(settings.WebSocketReconnectOnDataError);
        Assert.Equal(-1, settings.WebSocketConnectRetryCount);
    }

    [Fact]
    public void Unknown_keys_are_ignored_with_a_warning_naming_each_key()
    {
        var logs = new LogCapture();

        var settings = ProxySettingsJson.Parse("""
            {"tunneling":{"proxy":{"tcp":{"conection_retry_count":"9"},"colour":"blue"},"other":{}},"extra":1}
            """, logs.CreateLogger("test"), "lpsettings.json");

        Assert.Equal(ProxySettings.Default.TcpConnectionRetryCount, settings.TcpConnectionRetryCount);
        var warnings = logs.Lines.Where(l => l.StartsWith("Warning")).ToList();
        Assert.Equal(4, warnings.Count);
        Assert.Contains(warnings, w => w.Contains("'tunneling.proxy.tcp.conection_retry_count'") && w.Contains("lpsettings.json"));
        Assert.Contains(warnings, w => w.Contains("'tunneling.proxy.colour'"));
        Assert.Contains(warnings, w => w.Contains("'tunneling.other'"));
        Assert.Contains(warnings, w => w.Contains("'extra'"));
    }

    [Theory]
    [InlineData("""{"tunneling":{"proxy":{"websocket":{"ping_period_ms":"often"}}}}""", "tunneling.proxy.websocket.ping_period_ms", "'often'", "whole number of milliseconds")]
    [InlineData("""{"tunneling":{"proxy":{"tcp":{"connection_retry_count":"-2"}}}}""", "tunneling.proxy.tcp.connection_retry_count", "'-2'", "-1 to retry forever")]
    [InlineData("""{"tunneling":{"proxy":{"message":{"max_payload_size":"0"}}}}""", "tunneling.proxy.message.max_payload_size", "'0'", "64512")]
    [InlineData("""{"tunneling":{"proxy":{"message":{"data_length_size":"4"}}}}""", "tunneling.proxy.message.data_length_size", "'4'", "2")]
    [InlineData("""{"tunneling":{"proxy":{"websocket":{"reconnect_on_data_error":"maybe"}}}}""", "tunneling.proxy.websocket.reconnect_on_data_error", "'maybe'", "true or false")]
    [InlineData("""{"tunneling":{"proxy":{"websocket":{"subprotocol":"aws.iot.securetunneling-4.0"}}}}""", "tunneling.proxy.websocket.subprotocol", "'aws.iot.securetunneling-4.0'", "aws.iot.securetunneling-3.0")]
    [InlineData("""{"tunneling":{"proxy":{"endpoint_format":"data.example.com"}}}""", "tunneling.proxy.endpoint_format", "'data.example.com'", "%s")]
    [InlineData("""{"tunneling":{"proxy":{"default_bind_address":""}}}""", "tunneling.proxy.default_bind_address", "''", "host name or IP address")]
    [InlineData("""{"tunneling":{"proxy":{"tcp":{"max_active_connections":[1]}}}}""", "tunneling.proxy.tcp.max_active_connections", "an array", "single value")]
    [InlineData("""{"tunneling":{"proxy":{"tcp":"fast"}}}""", "tunneling.proxy.tcp", "\"fast\"", "must be an object")]
    [InlineData("""{"tunneling":{"proxy":{"region_endpoint_overrides":{"us-east-1":""}}}}""", "tunneling.proxy.region_endpoint_overrides.us-east-1", "''", "host name")]
    [InlineData("""{"tunneling":{"proxy":{"awstunnel":{"connection_buffer_limit_bytes":"10"}}}}""", "tunneling.proxy.awstunnel.connection_buffer_limit_bytes", "'10'", "64512")]
    public void A_malformed_value_names_the_key_the_value_and_what_is_expected(string json, string key, string value, string expected)
    {
        var error = Assert.Throws<SettingsException>(() => ProxySettingsJson.Parse(json, null, "lpsettings.json"));

        Assert.Contains(key, error.Message);
        Assert.Contains(value, error.Message);
        Assert.Contains(expected, error.Message);
        Assert.StartsWith("lpsettings.json", error.Message);
        Assert.Equal(key, error.Key);
    }

    [Theory]
    [InlineData("{\"tunneling\": {", "line 1")]
    [InlineData("{\n  \"tunneling\": {\"proxy\": {\"tcp\": {\"read_buffer_size\": \"1\",,}}}\n}", "line 2")]
    [InlineData("[1, 2]", "must be a JSON object")]
    [InlineData("{\"tunneling\": \"x\"}", "must be a JSON object")]
    public void Text_that_is_not_settings_json_says_where_it_breaks(string json, string expected)
    {
        var error = Assert.Throws<SettingsException>(() => ProxySettingsJson.Parse(json, null, "lpsettings.json"));

        Assert.Contains("lpsettings.json", error.Message);
        Assert.Contains(expected, error.Message);
    }

    [Fact]
    public void Export_writes_every_key_nested_with_string_values()
    {
        using var document = JsonDocument.Parse(ProxySettingsJson.Export(ProxySettings.Default));
        var proxy = document.RootElement.GetProperty("tunneling").GetProperty("proxy");

        foreach (var key in ProxySettingKeys.All)
        {
            var element = key.Split('.').Aggregate(proxy, (e, part) => e.GetProperty(part));
            Assert.Equal(JsonValueKind.String, element.ValueKind);
            Assert.Equal(ProxySettingKeys.Get(ProxySettings.Default, key), element.GetString());
        }

        Assert.Equal("64512", proxy.GetProperty("message").GetProperty("max_payload_size").GetString());
        Assert.Equal("data.tunneling.iot.%s.amazonaws.com", proxy.GetProperty("endpoint_format").GetString());
        Assert.Equal(JsonValueKind.Object, proxy.GetProperty("region_endpoint_overrides").ValueKind);
        Assert.Equal("-1", proxy.GetProperty("websocket").GetProperty("connect_retry_count").GetString());
        Assert.Equal("true", proxy.GetProperty("websocket").GetProperty("reconnect_on_data_error").GetString());
        Assert.Equal("16777216", proxy.GetProperty("awstunnel").GetProperty("connection_buffer_limit_bytes").GetString());
    }

    [Fact]
    public void Every_key_listed_in_the_protocol_notes_is_exported()
    {
        string[] documented =
        {
            "default_bind_address", "endpoint_format", "region_endpoint_overrides", "message.data_length_size", "message.max_payload_size",
            "message.max_size", "tcp.connection_retry_count", "tcp.connection_retry_delay_ms", "tcp.max_active_connections",
            "tcp.read_buffer_size", "websocket.ping_period_ms", "websocket.retry_delay_ms", "websocket.connect_retry_count",
            "websocket.reconnect_on_data_error", "websocket.subprotocol", "websocket.max_frame_size", "websocket.write_buffer_size",
            "websocket.read_buffer_size",
        };
        using var document = JsonDocument.Parse(ProxySettingsJson.Export(ProxySettings.Default));
        var proxy = document.RootElement.GetProperty("tunneling").GetProperty("proxy");

        foreach (var key in documented)
        {
            Assert.True(key.Split('.').Aggregate((JsonElement?)proxy, (e, part) => e is { } x && x.TryGetProperty(part, out var c) ? c : null) is not null,
                $"{key} is missing from the export");
        }
    }

    [Fact]
    public void Every_property_survives_an_export_and_a_reload()
    {
        var changed = NonDefaultSettings();

        var reloaded = ProxySettingsJson.Parse(ProxySettingsJson.Export(changed));

        foreach (var property in SettingProperties())
        {
            if (property.Name == nameof(ProxySettings.RegionEndpointOverrides))
            {
                Assert.Equal(changed.RegionEndpointOverrides, reloaded.RegionEndpointOverrides);
                continue;
            }

            Assert.True(Equals(property.GetValue(changed), property.GetValue(reloaded)),
                $"{property.Name} was {property.GetValue(changed)} but reloaded as {property.GetValue(reloaded)}: map it to a key in ProxySettingKeys.");
        }
    }

    [Fact]
    public void Export_to_a_file_and_load_it_back()
    {
        using var temp = new TempDirectory();
        string path = Path.Combine(temp.Path, "lpsettings.json");
        var changed = ProxySettings.Default with { TcpMaxActiveConnections = 7 };

        ProxySettingsJson.ExportToFile(changed, path);
        var loaded = ProxySettingsJson.Load(path);

        Assert.Equal(7, loaded.TcpMaxActiveConnections);
        Assert.StartsWith("{", File.ReadAllText(path));
    }

    [Fact]
    public void Loading_a_missing_file_names_it_and_the_fix()
    {
        var error = Assert.Throws<SettingsException>(() => ProxySettingsJson.Load("/nonexistent/lpsettings.json"));

        Assert.Contains("'/nonexistent/lpsettings.json' does not exist", error.Message);
        Assert.Contains("--export-default-settings", error.Message);
    }

    [Fact]
    public void Exporting_into_a_missing_directory_names_the_path()
    {
        var error = Assert.Throws<SettingsException>(() => ProxySettingsJson.ExportToFile(ProxySettings.Default, "/nonexistent/dir/lpsettings.json"));

        Assert.Contains("/nonexistent/dir/lpsettings.json", error.Message);
    }

    [Fact]
    public void An_empty_string_for_the_override_map_means_no_overrides()
    {
        var settings = ProxySettingsJson.Parse("""{"tunneling":{"proxy":{"region_endpoint_overrides":""}}}""");

        Assert.Empty(settings.RegionEndpointOverrides);
    }

    internal static IEnumerable<PropertyInfo> SettingProperties() =>
        typeof(ProxySettings).GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite);

    /// <summary>Every property set to a valid value other than its default (data_length_size has only one valid value).</summary>
    internal static ProxySettings NonDefaultSettings()
    {
        var settings = ProxySettings.Default with
        {
            RegionEndpointOverrides = new Dictionary<string, string> { ["us-east-1"] = "tunnel.example.com:8443" },
        };
        foreach (var property in SettingProperties())
        {
            object? value = property.GetValue(settings) switch
            {
                int i when property.Name == nameof(ProxySettings.DataLengthSize) => i,
                int i when property.Name == nameof(ProxySettings.ConnectionBufferLimitBytes) => i + 1,
                int i => i > 2 ? i - 1 : i == -1 ? 3 : i + 1,
                bool b => !b,
                string _ when property.Name == nameof(ProxySettings.DefaultBindAddress) => "127.0.0.1",
                string _ when property.Name == nameof(ProxySettings.EndpointFormat) => "tunnel.%s.example.com",
                string _ when property.Name == nameof(ProxySettings.WebSocketSubprotocol) => "aws.iot.securetunneling-2.0",
                string s => s + "-changed",
                var other => other,
            };
            settings = With(settings, property, value);
        }

        return settings;
    }

    private static ProxySettings With(ProxySettings settings, PropertyInfo property, object? value)
    {
        var clone = (ProxySettings)typeof(ProxySettings).GetMethod("<Clone>$")!.Invoke(settings, null)!;
        property.SetValue(clone, value);
        return clone;
    }
}
