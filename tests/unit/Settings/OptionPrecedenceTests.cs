using AwsTunnel.Engine.Settings;

namespace AwsTunnel.Tests.Settings;

/// <summary>Flags over the config file over the environment, per option, as the reference documents.</summary>
public class OptionPrecedenceTests
{
    private static readonly IReadOnlyDictionary<string, string> NoFlags = new Dictionary<string, string>();

    private static TunnelEnvironment Env(params (string Name, string Value)[] variables) =>
        TunnelEnvironment.Read(name => variables.FirstOrDefault(v => v.Name == name).Value);

    [Fact]
    public void The_documented_config_ini_with_a_token_flag_composes()
    {
        // ./localproxy --config config.ini -t foobar == -c /opt/rootca -r us-west-2 -b ::1 -s 6000 -t foobar
        var file = ConfigFile.Parse("capath = /opt/rootca\nregion = us-west-2\nlocal-bind-address = ::1\nsource-listen-port = 6000\n", "config.ini");

        var merged = OptionPrecedence.Merge(new Dictionary<string, string> { ["access-token"] = "foobar" }, file, "config.ini", TunnelEnvironment.Empty);

        Assert.Equal(
            new Dictionary<string, string>
            {
                ["access-token"] = "foobar", ["capath"] = "/opt/rootca", ["region"] = "us-west-2", ["local-bind-address"] = "::1", ["source-listen-port"] = "6000",
            },
            merged.ToDictionary(p => p.Key, p => p.Value.Value));
        Assert.Equal(OptionPrecedence.CommandLine, merged["access-token"].Source);
        Assert.Equal("config file config.ini", merged["region"].Source);
    }

    [Fact]
    public void Flags_win_over_the_config_file_which_wins_over_the_environment()
    {
        var file = ConfigFile.Parse("region = from-file\naccess-token = file-token");
        var env = Env(("AWSIOT_TUNNEL_REGION", "from-env"), ("AWSIOT_TUNNEL_ACCESS_TOKEN", "env-token"), ("AWSIOT_TUNNEL_CLIENT_TOKEN", "env-client"));

        var merged = OptionPrecedence.Merge(new Dictionary<string, string> { ["region"] = "from-flag" }, file, "config.ini", env);

        Assert.Equal("from-flag", merged["region"].Value);
        Assert.Equal("file-token", merged["access-token"].Value);
        Assert.Equal("env-client", merged["client-token"].Value);
        Assert.Equal("AWSIOT_TUNNEL_CLIENT_TOKEN", merged["client-token"].Source);
    }

    [Fact]
    public void The_environment_alone_supplies_token_and_region()
    {
        var merged = OptionPrecedence.Merge(NoFlags, null, null, Env(("AWSIOT_TUNNEL_ACCESS_TOKEN", "t"), ("AWSIOT_TUNNEL_REGION", "eu-west-1")));

        Assert.Equal((Region: (string?)"eu-west-1", Endpoint: (string?)null), OptionPrecedence.RequireRegionOrEndpoint(merged));
        Assert.Equal("AWSIOT_TUNNEL_ACCESS_TOKEN", merged["access-token"].Source);
    }

    [Fact]
    public void An_endpoint_from_the_environment_conflicts_with_a_region_flag_naming_both_sources()
    {
        var merged = OptionPrecedence.Merge(new Dictionary<string, string> { ["region"] = "us-east-1" }, null, null,
            Env(("AWSIOT_TUNNEL_ENDPOINT", "tunnel.example.com")));

        var error = Assert.Throws<SettingsException>(() => OptionPrecedence.RequireRegionOrEndpoint(merged));

        Assert.Contains("region (from the command line)", error.Message);
        Assert.Contains("endpoint (from AWSIOT_TUNNEL_ENDPOINT)", error.Message);
        Assert.Contains("mutually exclusive", error.Message);
    }

    [Fact]
    public void A_region_in_the_config_file_and_an_endpoint_flag_conflict()
    {
        var merged = OptionPrecedence.Merge(new Dictionary<string, string> { ["proxy-endpoint"] = "tunnel.example.com" },
            ConfigFile.Parse("region = us-east-1"), "config.ini", TunnelEnvironment.Empty);

        var error = Assert.Throws<SettingsException>(() => OptionPrecedence.RequireRegionOrEndpoint(merged));

        Assert.Contains("region (from config file config.ini)", error.Message);
    }

    [Fact]
    public void Neither_region_nor_endpoint_names_every_way_to_give_one()
    {
        var error = Assert.Throws<SettingsException>(() =>
            OptionPrecedence.RequireRegionOrEndpoint(OptionPrecedence.Merge(NoFlags, null, null, TunnelEnvironment.Empty)));

        Assert.Contains("AWSIOT_TUNNEL_REGION", error.Message);
        Assert.Contains("--proxy-endpoint", error.Message);
    }

    [Fact]
    public void A_value_prints_only_its_source()
    {
        Assert.Equal("AWSIOT_TUNNEL_ACCESS_TOKEN", new OptionValue("secret", "AWSIOT_TUNNEL_ACCESS_TOKEN").ToString());
    }
}
