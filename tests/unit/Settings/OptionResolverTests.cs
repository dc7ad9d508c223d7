using AwsTunnel.Engine.Settings;
using AwsTunnel.Tests.Support;

namespace AwsTunnel.Tests.Settings;

/// <summary>
/// The one resolver both front ends use: typed &gt; piped &gt; derived &gt; config file &gt; environment &gt;
/// ambient defaults, per option, each value knowing its source; the region/endpoint rule, the
/// access token and the client token are decided there once.
/// </summary>
public class OptionResolverTests
{
    private const string ValidClientToken = "0123456789abcdef0123456789abcdef";

    private static TunnelEnvironment Env(params (string Name, string? Value)[] variables) =>
        TunnelEnvironment.Read(name => variables.FirstOrDefault(v => v.Name == name).Value);

    private static readonly ProxySettings Defaults = ProxySettings.Default;

    [Fact]
    public void The_documented_config_ini_with_a_token_flag_composes()
    {
        // ./localproxy --config config.ini -t foobar == -c /opt/rootca -r us-west-2 -b ::1 -s 6000 -t foobar
        var file = ConfigFile.Parse("capath = /opt/rootca\nregion = us-west-2\nlocal-bind-address = ::1\nsource-listen-port = 6000\n", "config.ini");

        var sources = new OptionResolver()
            .Add("access-token", "foobar", "-t/--access-token", OptionOrigin.Typed)
            .AddConfigFile(file, "config.ini")
            .AddEnvironment(TunnelEnvironment.Empty);

        Assert.Equal(
            new Dictionary<string, string>
            {
                ["access-token"] = "foobar", ["capath"] = "/opt/rootca", ["region"] = "us-west-2", ["local-bind-address"] = "::1", ["source-listen-port"] = "6000",
            },
            sources.Winners().ToDictionary(p => p.Key, p => p.Value.Value));
        Assert.Equal("-t/--access-token", sources.Get("access-token")!.Source);
        Assert.Equal("region in config file config.ini", sources.Get("region")!.Source);
    }

    [Fact]
    public void Flags_win_over_the_config_file_which_wins_over_the_environment()
    {
        var env = Env(("AWSIOT_TUNNEL_REGION", "from-env"), ("AWSIOT_TUNNEL_ACCESS_TOKEN", "env-token"), ("AWSIOT_TUNNEL_CLIENT_TOKEN", "env-client"));

        var sources = new OptionResolver()
            .AddEnvironment(env)
            .AddConfigFile(ConfigFile.Parse("region = from-file\naccess-token = file-token"), "config.ini")
            .Add("region", "from-flag", "-r/--region", OptionOrigin.Typed);

        Assert.Equal("from-flag", sources.Get("region")!.Value);
        Assert.Equal("file-token", sources.Get("access-token")!.Value);
        Assert.Equal("env-client", sources.Get("client-token")!.Value);
        Assert.Equal("AWSIOT_TUNNEL_CLIENT_TOKEN", sources.Get("client-token")!.Source);
    }

    [Fact]
    public void Blank_values_count_as_not_given()
    {
        var sources = new OptionResolver()
            .Add("region", "  ", "-r/--region", OptionOrigin.Typed)
            .Add("region", "eu-west-1", "AWSIOT_TUNNEL_REGION", OptionOrigin.Environment);

        Assert.Equal("AWSIOT_TUNNEL_REGION", sources.Get("region")!.Source);
    }

    [Fact]
    public void The_environment_alone_supplies_token_and_region()
    {
        var sources = new OptionResolver().AddEnvironment(Env(("AWSIOT_TUNNEL_ACCESS_TOKEN", "t"), ("AWSIOT_TUNNEL_REGION", "eu-west-1")));

        Assert.Equal("data.tunneling.iot.eu-west-1.amazonaws.com", sources.ResolveServiceUri(Defaults, "hint").Host);
        Assert.Equal("t", sources.ResolveAccessToken("hint"));
    }

    [Fact]
    public void A_region_and_an_endpoint_of_the_same_strength_are_mutually_exclusive_naming_both_sources()
    {
        var sources = new OptionResolver()
            .AddConfigFile(ConfigFile.Parse("region = us-east-1\nproxy-endpoint = tunnel.example.com"), "config.ini");

        var error = Assert.Throws<ArgumentException>(() => sources.ResolveServiceUri(Defaults, "hint"));

        Assert.Contains("region (from region in config file config.ini)", error.Message);
        Assert.Contains("endpoint (from proxy-endpoint in config file config.ini)", error.Message);
        Assert.Contains("mutually exclusive", error.Message);
    }

    [Fact]
    public void Both_variables_set_are_mutually_exclusive()
    {
        var sources = new OptionResolver().AddEnvironment(Env(("AWSIOT_TUNNEL_REGION", "us-east-1"), ("AWSIOT_TUNNEL_ENDPOINT", "tunnel.example.com")));

        var error = Assert.Throws<ArgumentException>(() => sources.ResolveServiceUri(Defaults, "hint"));

        Assert.Contains("AWSIOT_TUNNEL_REGION", error.Message);
        Assert.Contains("AWSIOT_TUNNEL_ENDPOINT", error.Message);
    }

    [Fact]
    public void A_typed_region_wins_over_an_endpoint_variable_with_a_warning_naming_both()
    {
        var logs = new LogCapture();
        var sources = new OptionResolver()
            .Add("region", "us-east-1", "-r/--region", OptionOrigin.Typed)
            .AddEnvironment(Env(("AWSIOT_TUNNEL_ENDPOINT", "tunnel.example.com")));

        var uri = sources.ResolveServiceUri(Defaults, "hint", logs.CreateLogger("test"));

        Assert.Equal("data.tunneling.iot.us-east-1.amazonaws.com", uri.Host);
        var warning = Assert.Single(logs.Lines, l => l.Contains("overrides", StringComparison.Ordinal));
        Assert.Contains("-r/--region", warning);
        Assert.Contains("AWSIOT_TUNNEL_ENDPOINT", warning);
    }

    [Fact]
    public void A_piped_endpoint_wins_over_the_region_inside_the_piped_ARN_without_a_warning()
    {
        var logs = new LogCapture();
        var sources = new OptionResolver()
            .Add("proxy-endpoint", "ws://127.0.0.1:9000", "-Endpoint", OptionOrigin.Pipeline)
            .Add("region", "us-east-1", "the TunnelArn", OptionOrigin.Derived);

        var uri = sources.ResolveServiceUri(Defaults, "hint", logs.CreateLogger("test"));

        Assert.Equal(9000, uri.Port);
        Assert.Empty(logs.Lines);
    }

    [Fact]
    public void An_endpoint_variable_wins_over_AWS_REGION_which_is_not_about_tunnels()
    {
        var env = Env(("AWSIOT_TUNNEL_ENDPOINT", "tunnel.example.com"), ("AWS_REGION", "eu-west-1"));
        var sources = new OptionResolver().AddEnvironment(env).AddAmbientRegions(env, storedAwsRegion: null);

        Assert.Equal("tunnel.example.com", sources.ResolveServiceUri(Defaults, "hint").Host);
    }

    [Theory]
    [InlineData("explicit", "piped", "tunnel", "stored", "aws", "default", "explicit", "-Region")]
    [InlineData(null, "piped", "tunnel", "stored", "aws", "default", "piped", "the TunnelArn")]
    [InlineData(null, null, "tunnel", "stored", "aws", "default", "tunnel", "AWSIOT_TUNNEL_REGION")]
    [InlineData(null, null, null, "stored", "aws", "default", "stored", "$StoredAWSRegion")]
    [InlineData(null, null, null, null, "aws", "default", "aws", "AWS_REGION")]
    [InlineData(null, null, null, null, null, "default", "default", "AWS_DEFAULT_REGION")]
    [InlineData("", " ", null, "", null, "default", "default", "AWS_DEFAULT_REGION")]
    public void The_region_comes_from_the_strongest_source_that_has_one(
        string? typed, string? fromArn, string? tunnel, string? stored, string? aws, string? awsDefault, string expected, string source)
    {
        var env = Env(("AWSIOT_TUNNEL_REGION", tunnel), ("AWS_REGION", aws), ("AWS_DEFAULT_REGION", awsDefault));

        var sources = new OptionResolver()
            .AddAmbientRegions(env, stored)
            .AddEnvironment(env)
            .Add("region", fromArn, "the TunnelArn", OptionOrigin.Derived)
            .Add("region", typed, "-Region", OptionOrigin.Typed);

        Assert.Equal(expected, sources.Get("region")!.Value);
        Assert.Equal(source, sources.Get("region")!.Source);
    }

    [Fact]
    public void Neither_region_nor_endpoint_gives_the_front_ends_hint()
    {
        var error = Assert.Throws<ArgumentException>(() => new OptionResolver().ResolveServiceUri(Defaults, "Give -r/--region."));

        Assert.Contains("No region or endpoint", error.Message);
        Assert.Contains("Give -r/--region.", error.Message);
    }

    [Fact]
    public void A_malformed_endpoint_is_reported_with_its_source()
    {
        var sources = new OptionResolver().Add("proxy-endpoint", "ftp://nowhere", "AWSIOT_TUNNEL_ENDPOINT", OptionOrigin.Environment);

        var error = Assert.Throws<ArgumentException>(() => sources.ResolveServiceUri(Defaults, "hint"));

        Assert.StartsWith("AWSIOT_TUNNEL_ENDPOINT: ", error.Message);
    }

    [Fact]
    public void The_client_token_comes_from_AWSIOT_TUNNEL_CLIENT_TOKEN_when_not_typed()
    {
        var sources = new OptionResolver().AddEnvironment(Env(("AWSIOT_TUNNEL_CLIENT_TOKEN", ValidClientToken)));

        Assert.Equal(ValidClientToken, sources.ResolveClientToken());
    }

    [Theory]
    [InlineData("AWSIOT_TUNNEL_CLIENT_TOKEN")]
    [InlineData("AWSIOT_CLIENT_TOKEN")]
    public void A_short_client_token_from_the_environment_is_refused_naming_the_variable_not_the_value(string variable)
    {
        var sources = new OptionResolver().AddEnvironment(Env((variable, "too-short-secret")));

        var error = Assert.Throws<ArgumentException>(() => sources.ResolveClientToken());

        Assert.Contains(variable, error.Message);
        Assert.Contains("32 to 128", error.Message);
        Assert.DoesNotContain("too-short-secret", error.Message);
    }

    [Fact]
    public void No_client_token_anywhere_is_null_so_the_engine_makes_one()
    {
        Assert.Null(new OptionResolver().AddEnvironment(TunnelEnvironment.Empty).ResolveClientToken());
    }

    [Theory]
    [InlineData("secret\r\nX-Injected: 1")]
    [InlineData("secret\ttab")]
    public void An_access_token_with_a_control_character_is_refused_naming_the_source_not_the_value(string token)
    {
        var sources = new OptionResolver().Add("access-token", token, "-t/--access-token", OptionOrigin.Typed);

        var error = Assert.Throws<ArgumentException>(() => sources.ResolveAccessToken("hint"));

        Assert.Contains("-t/--access-token", error.Message);
        Assert.Contains("control character", error.Message);
        Assert.DoesNotContain("secret", error.Message);
    }

    [Fact]
    public void No_access_token_gives_the_front_ends_hint()
    {
        var error = Assert.Throws<ArgumentException>(() => new OptionResolver().ResolveAccessToken("Set AWSIOT_TUNNEL_ACCESS_TOKEN."));

        Assert.Contains("Set AWSIOT_TUNNEL_ACCESS_TOKEN.", error.Message);
    }
}
