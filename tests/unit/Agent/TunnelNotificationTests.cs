using System.Text;
using AwsTunnel.Engine.Agent;
using AwsTunnel.Engine.Tunnel;

namespace AwsTunnel.Tests.Agent;

public sealed class TunnelNotificationTests
{
    private const string Token = "AQGAAXiW6TiPWdLZDHK6pR0u-secret-token-value";

    private static TunnelNotification? Parse(string json, out string? problem) => TunnelNotification.TryParse(Encoding.UTF8.GetBytes(json), out problem);

    [Fact]
    public void An_AWS_notification_is_read()
    {
        var n = Parse($$"""{"clientAccessToken":"{{Token}}","clientMode":"destination","region":"eu-west-1","services":["SSH1","HTTP"]}""", out var problem);
        Assert.Null(problem);
        Assert.NotNull(n);
        Assert.Equal("eu-west-1", n.Region);
        Assert.Equal(new[] { "SSH1", "HTTP" }, n.Services);
        Assert.Null(n.TunnelId);
        Assert.Equal("services:eu-west-1:HTTP,SSH1", n.Key);
        Assert.DoesNotContain(Token, n.ToString());
    }

    [Fact]
    public void A_tunnel_id_in_the_payload_keys_the_tunnel()
    {
        var n = Parse($$"""{"clientAccessToken":"{{Token}}","clientMode":"destination","region":"us-east-1","services":["SSH"],"tunnelId":"abc-123"}""", out _);
        Assert.Equal("tunnel:abc-123", n!.Key);
        Assert.Contains("abc-123", n.ToString());
    }

    [Theory]
    [InlineData("{", "not valid JSON")]
    [InlineData("\"text\"", "JSON string, not an object")]
    [InlineData("""{"clientAccessToken":"T0KEN","region":"us-east-1","services":["SSH"]}""", "no clientMode")]
    [InlineData("""{"clientAccessToken":"T0KEN","clientMode":"source","region":"us-east-1","services":["SSH"]}""", "clientMode is 'source'")]
    [InlineData("""{"clientAccessToken":"","clientMode":"destination","region":"us-east-1","services":["SSH"]}""", "no clientAccessToken")]
    [InlineData("""{"clientAccessToken":42,"clientMode":"destination","region":"us-east-1","services":["SSH"]}""", "clientAccessToken is a JSON number")]
    [InlineData("""{"clientAccessToken":"T0KEN","clientMode":"destination","services":["SSH"]}""", "names no region")]
    [InlineData("""{"clientAccessToken":"T0KEN","clientMode":"destination","region":"us-east-1","services":[]}""", "services list is empty")]
    [InlineData("""{"clientAccessToken":"T0KEN","clientMode":"destination","region":"us-east-1","services":["SSH","SSH"]}""", "names 'SSH' twice")]
    [InlineData("""{"clientAccessToken":"T0KEN","clientMode":"destination","region":"us-east-1","services":[1]}""", "not a service name")]
    public void Unusable_payloads_say_why_without_the_token(string json, string expected)
    {
        Assert.Null(Parse(json, out var problem));
        Assert.Contains(expected, problem);
        Assert.DoesNotContain("T0KEN", problem);
    }

    [Fact]
    public void A_JSON_error_inside_the_token_does_not_quote_it()
    {
        Assert.Null(Parse("{\"clientAccessToken\":\"" + Token + "\\q\"}", out var problem));
        Assert.DoesNotContain(Token[..10], problem);
    }

    [Fact]
    public void An_oversized_payload_is_refused_unread()
    {
        Assert.Null(TunnelNotification.TryParse(new byte[TunnelNotification.MaxPayloadBytes + 1], out var problem));
        Assert.Contains("more than the", problem);
    }

    [Fact]
    public void Well_known_names_have_default_targets_and_given_targets_win()
    {
        var given = ServiceMapping.ParseList("SSH=10.0.0.5:2222,WEB=8080", "test");
        Assert.Equal(new ServiceMapping("SSH", "10.0.0.5", 2222), WellKnownServices.Resolve("SSH", given));
        Assert.Equal(new ServiceMapping("vnc", "localhost", 5900), WellKnownServices.Resolve("vnc", given));
        Assert.Equal(new ServiceMapping("RDP", "localhost", 3389), WellKnownServices.Resolve("RDP", given));
        Assert.Equal(new ServiceMapping("HTTP", "localhost", 80), WellKnownServices.Resolve("HTTP", given));
        Assert.Equal(new ServiceMapping("HTTPS", "localhost", 443), WellKnownServices.Resolve("HTTPS", given));
        Assert.Equal(8080, WellKnownServices.Resolve("WEB", given)!.Port);
        Assert.Null(WellKnownServices.Resolve("SSH1", Array.Empty<ServiceMapping>()));
    }

    [Theory]
    [InlineData("a1b2c3-ats.iot.us-east-1.amazonaws.com", "a1b2c3-ats.iot.us-east-1.amazonaws.com", 8883, true)]
    [InlineData("broker.local:9000", "broker.local", 9000, true)]
    [InlineData("mqtt://127.0.0.1", "127.0.0.1", 1883, false)]
    [InlineData("mqtt://127.0.0.1:11883", "127.0.0.1", 11883, false)]
    [InlineData("mqtts://broker", "broker", 8883, true)]
    [InlineData("mqtts://[::1]:8884", "::1", 8884, true)]
    public void Broker_addresses_parse(string text, string host, int port, bool tls)
    {
        Assert.Equal(new BrokerAddress(host, port, tls), BrokerAddress.Parse(text));
    }

    [Theory]
    [InlineData("", "No MQTT broker")]
    [InlineData("http://broker", "scheme 'http'")]
    [InlineData("mqtt://broker/path", "is not valid")]
    public void Bad_broker_addresses_say_what_to_give(string text, string expected)
    {
        var ex = Assert.Throws<ArgumentException>(() => BrokerAddress.Parse(text));
        Assert.Contains(expected, ex.Message);
    }

    [Theory]
    [InlineData("dev/42", 10, "SSH=22", "Thing name 'dev/42'")]
    [InlineData("dev42", 0, "SSH=22", "at least 1")]
    [InlineData("dev42", 1, "22", "has no service id")]
    [InlineData("dev42", 1, "SSH=0", "port 0")]
    public void Agent_options_are_checked(string thing, int max, string services, string expected)
    {
        var options = new AgentOptions
        {
            ThingName = thing,
            Broker = BrokerAddress.Parse("mqtt://127.0.0.1"),
            MaxTunnels = max,
            Services = ServiceMapping.ParseList(services, "test"),
        };
        var ex = Assert.Throws<ArgumentException>(options.Validate);
        Assert.Contains(expected, ex.Message);
    }

    [Fact]
    public void The_notify_topic_is_the_things_reserved_topic()
    {
        var options = new AgentOptions { ThingName = "dev42", Broker = BrokerAddress.Parse("mqtt://127.0.0.1") };
        Assert.Equal("$aws/things/dev42/tunnels/notify", options.NotifyTopic);
    }
}
