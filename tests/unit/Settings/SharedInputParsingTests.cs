using System.Net;
using AwsTunnel.Engine.Protocol;
using AwsTunnel.Engine.Service;
using AwsTunnel.Engine.Settings;
using AwsTunnel.Engine.Transport;
using AwsTunnel.Engine.Tunnel;
using AwsTunnel.Tests.Support;

namespace AwsTunnel.Tests.Settings;

/// <summary>
/// Inputs both front ends read through one engine function (issue 13 items 9 and 10): the listen
/// address, the web proxy precedence, tolerated settings values, and how messages name message
/// types and long service id lists.
/// </summary>
public class SharedInputParsingTests
{
    [Theory]
    [InlineData("localhost", "127.0.0.1")]
    [InlineData("LOCALHOST", "127.0.0.1")]
    [InlineData("127.0.0.1", "127.0.0.1")]
    [InlineData("::1", "::1")]
    [InlineData("[::1]", "::1")]
    [InlineData(" 0.0.0.0 ", "0.0.0.0")]
    public void A_listen_address_is_an_IP_literal_or_localhost(string text, string expected)
    {
        Assert.Equal(IPAddress.Parse(expected), ListenAddress.Parse(text, "-Address"));
    }

    [Theory]
    [InlineData("example.com")]
    [InlineData("")]
    [InlineData("not-an-address")]
    public void Anything_else_is_refused_naming_the_input(string text)
    {
        var error = Assert.Throws<ArgumentException>(() => ListenAddress.Parse(text, "--address"));

        Assert.StartsWith("--address", error.Message);
        Assert.Contains("localhost", error.Message);
    }

    [Fact]
    public void An_explicit_web_proxy_wins_over_the_environment_and_a_direct_connection_ignores_it()
    {
        var environment = TunnelEnvironment.Read(name => name == "HTTPS_PROXY" ? "http://env-proxy:3128" : null);
        var target = new Uri("wss://data.tunneling.iot.us-east-1.amazonaws.com");

        var explicitProxy = WebProxyResolver.Resolve(new Uri("http://typed-proxy:8080"), null, direct: false, environment);
        var fromEnvironment = WebProxyResolver.Resolve(null, null, direct: false, environment);
        var direct = WebProxyResolver.Resolve(null, null, direct: true, environment);

        Assert.Equal("typed-proxy", explicitProxy!.GetProxy(target)!.Host);
        Assert.Equal("env-proxy", fromEnvironment!.GetProxy(target)!.Host);
        Assert.Null(direct);
    }

    [Theory]
    [InlineData("websocket.ping_period_ms", "0", 1)]
    [InlineData("message.max_payload_size", "70000", 64512)]
    [InlineData("message.max_size", "100000", 65536)]
    [InlineData("websocket.max_frame_size", "262144", 131076)]
    public void Values_the_reference_runs_with_are_taken_as_the_nearest_valid_one_with_a_warning(string key, string value, int taken)
    {
        var logs = new LogCapture();

        var settings = ProxySettingsJson.ApplyOverrides(ProxySettings.Default, new Dictionary<string, string> { [key] = value }, "-Setting", logs.CreateLogger("test"));

        Assert.Equal(taken.ToString(System.Globalization.CultureInfo.InvariantCulture), ProxySettingKeys.Get(settings, key));
        var warning = Assert.Single(logs.Lines);
        Assert.Contains(key, warning);
        Assert.Contains($"using {taken}", warning);
    }

    [Theory]
    [InlineData("websocket.ping_period_ms", "-5")]
    [InlineData("message.max_payload_size", "0")]
    [InlineData("tcp.max_active_connections", "0")]
    public void Values_whose_meaning_is_unclear_are_still_refused(string key, string value)
    {
        Assert.Throws<SettingsException>(() => ProxySettingsJson.ApplyOverrides(ProxySettings.Default, new Dictionary<string, string> { [key] = value }));
    }

    [Theory]
    [InlineData(Message.Types.Type.Data, "A Data message")]
    [InlineData(Message.Types.Type.StreamStart, "A StreamStart message")]
    [InlineData(Message.Types.Type.Unknown, "A message of type 0 (UNKNOWN)")]
    [InlineData((Message.Types.Type)42, "A message of undefined type 42")]
    public void Message_types_are_named_in_words(Message.Types.Type type, string expected)
    {
        Assert.Equal(expected, MessageTypeName.AMessageOf(type));
    }

    [Fact]
    public void A_long_service_id_list_is_cut_to_ten_entries_and_a_count()
    {
        var ids = Enumerable.Range(1, 6001).Select(i => $"S{i}").ToList();

        string described = ServiceIdList.Describe(ids);

        Assert.StartsWith("[S1, S2,", described);
        Assert.EndsWith("S10, and 5991 more]", described);
        Assert.True(described.Length < 200, described);
        Assert.Equal("[SSH1, HTTP]", ServiceIdList.Describe(new[] { "SSH1", "HTTP" }));
        Assert.Equal("[" + new string('x', ServiceIdList.MaxEntryLength) + "…]", ServiceIdList.Describe(new[] { new string('x', 5000) }));
    }

    [Fact]
    public async Task The_local_service_blames_the_proxy_that_sent_a_text_frame()
    {
        await using var harness = await TunnelHarness.StartAsync(new[] { "SSH1" });
        using var socket = new System.Net.WebSockets.ClientWebSocket();
        socket.Options.SetRequestHeader("access-token", harness.Tunnel.SourceAccessToken);
        socket.Options.AddSubProtocol(Subprotocols.V3);
        await socket.ConnectAsync(TunnelEndpoint.HandshakeUri(harness.Service.Endpoint, TunnelMode.Source), CancellationToken.None);

        await socket.SendAsync("hello"u8.ToArray(), System.Net.WebSockets.WebSocketMessageType.Text, true, CancellationToken.None);

        await harness.Logs.WaitForLineAsync(l => l.Contains("source broke the protocol", StringComparison.Ordinal), "the violation to be logged");
        var line = harness.Logs.Lines.First(l => l.Contains("source broke the protocol", StringComparison.Ordinal));
        Assert.Contains("A text WebSocket frame arrived", line);
        Assert.DoesNotContain("The service sent", line);
    }
}
