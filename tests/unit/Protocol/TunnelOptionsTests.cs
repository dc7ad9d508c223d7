using AwsTunnel.Engine.Protocol;
using AwsTunnel.Engine.Tunnel;

namespace AwsTunnel.Tests.Protocol;

public class TunnelOptionsTests
{
    private const string AccessToken = "AQGAAXiS-secret-access-token-value-0123456789";
    private const string ClientToken = "c0ffee00-1234-4abc-9def-0123456789ab";

    private static TunnelOptions Options(TunnelMode mode, string services, string? clientToken = null) => new()
    {
        Mode = mode,
        ServiceUri = new Uri("wss://data.tunneling.iot.us-east-1.amazonaws.com"),
        AccessToken = AccessToken,
        ClientToken = clientToken,
        Services = services.Length == 0 ? Array.Empty<ServiceMapping>() : ServiceMapping.ParseList(services, "-s"),
    };

    [Theory]
    [InlineData(31, false)]
    [InlineData(32, true)]
    [InlineData(64, true)]
    [InlineData(128, true)]
    [InlineData(129, false)]
    [InlineData(0, false)]
    public void A_client_token_is_valid_only_with_32_to_128_characters(int length, bool valid)
    {
        Assert.Equal(valid, TunnelOptions.IsValidClientToken(new string('a', length)));
    }

    [Fact]
    public void A_client_token_of_letters_digits_and_dashes_is_valid()
    {
        Assert.True(TunnelOptions.IsValidClientToken("ABCdef-0123456789-abcdefABCDEF-xyz"));
    }

    [Theory]
    [InlineData('_')]
    [InlineData(' ')]
    [InlineData('.')]
    [InlineData('é')]
    public void A_client_token_with_a_character_outside_the_pattern_is_invalid(char bad)
    {
        Assert.False(TunnelOptions.IsValidClientToken(new string('a', 31) + bad));
        Assert.False(TunnelOptions.IsValidClientToken(bad + new string('a', 40)));
    }

    [Fact]
    public void A_client_token_with_a_trailing_newline_is_invalid()
    {
        // The service's pattern is ^[a-zA-Z0-9-]{32,128}$; a newline is not in it, and a
        // header value cannot carry one anyway.
        Assert.False(TunnelOptions.IsValidClientToken(new string('a', 32) + "\n"));
    }

    [Fact]
    public void A_new_client_token_matches_the_service_pattern()
    {
        Assert.True(TunnelOptions.IsValidClientToken(TunnelOptions.NewClientToken()));
    }

    [Fact]
    public void New_client_tokens_differ()
    {
        Assert.NotEqual(TunnelOptions.NewClientToken(), TunnelOptions.NewClientToken());
    }

    [Theory]
    [InlineData(TunnelMode.Source, "SSH1=5555")]
    [InlineData(TunnelMode.Destination, "SSH1=10.0.0.1:22")]
    public void ToString_never_contains_the_access_token_or_the_client_token(TunnelMode mode, string services)
    {
        var text = Options(mode, services, ClientToken).ToString();

        Assert.DoesNotContain(AccessToken, text);
        Assert.DoesNotContain(ClientToken, text);
        Assert.DoesNotContain("secret", text);
        Assert.Contains("<redacted>", text);
    }

    [Fact]
    public void ToString_describes_the_mode_endpoint_and_services()
    {
        var text = Options(TunnelMode.Destination, "SSH1=10.0.0.1:22").ToString();

        Assert.Contains("Destination", text);
        Assert.Contains("data.tunneling.iot.us-east-1.amazonaws.com", text);
        Assert.Contains("SSH1=10.0.0.1:22", text);
        Assert.Contains("client-token=<none>", text);
    }

    [Fact]
    public void A_record_copy_with_changed_tokens_still_hides_them()
    {
        var options = Options(TunnelMode.Source, "") with { AccessToken = "another-secret-token", ClientToken = new string('z', 40) };

        var text = options.ToString();

        Assert.DoesNotContain("another-secret-token", text);
        Assert.DoesNotContain(new string('z', 40), text);
    }

    [Fact]
    public void A_source_with_no_mappings_is_valid()
    {
        Options(TunnelMode.Source, "").Validate();
    }

    [Fact]
    public void A_destination_with_a_target_is_valid()
    {
        Options(TunnelMode.Destination, "SSH1=10.0.0.1:22", ClientToken).Validate();
    }

    [Fact]
    public void A_destination_with_no_services_is_rejected()
    {
        var ex = Assert.Throws<ArgumentException>(() => Options(TunnelMode.Destination, "").Validate());

        Assert.Contains("destination needs at least one target", ex.Message);
    }

    [Fact]
    public void A_destination_target_with_port_zero_is_rejected()
    {
        var ex = Assert.Throws<ArgumentException>(() => Options(TunnelMode.Destination, "SSH1=0").Validate());

        Assert.Contains("port 0", ex.Message);
        Assert.Contains("SSH1=0", ex.Message);
    }

    [Fact]
    public void A_source_mapping_that_names_a_host_is_rejected()
    {
        var ex = Assert.Throws<ArgumentException>(() => Options(TunnelMode.Source, "SSH1=5555,HTTP=10.0.0.1:80").Validate());

        Assert.Contains("HTTP=10.0.0.1:80", ex.Message);
        Assert.Contains("names a host", ex.Message);
    }

    [Fact]
    public void A_missing_access_token_is_rejected()
    {
        var options = Options(TunnelMode.Source, "") with { AccessToken = " " };

        var ex = Assert.Throws<ArgumentException>(() => options.Validate());

        Assert.Contains("access token", ex.Message);
    }

    [Fact]
    public void An_invalid_client_token_is_rejected_without_echoing_it()
    {
        var options = Options(TunnelMode.Source, "", clientToken: "too_short");

        var ex = Assert.Throws<ArgumentException>(() => options.Validate());

        Assert.Contains("client token", ex.Message);
        Assert.DoesNotContain("too_short", ex.Message);
    }
}
