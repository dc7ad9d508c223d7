using AwsTunnel.Engine.Settings;
using AwsTunnel.Tests.Support;

namespace AwsTunnel.Tests.Settings;

/// <summary><c>--config FILE</c>: the reference's <c>option = value</c> lines.</summary>
public class ConfigFileTests
{
    [Fact]
    public void The_reference_documentation_example_reads_as_its_options()
    {
        var options = ConfigFile.Parse("""
            region = us-east-1
            access-token = foobar
            source-listen-port = 5000
            """, "config.ini");

        Assert.Equal(new[] { "region", "access-token", "source-listen-port" }, options.Keys);
        Assert.Equal("us-east-1", options["region"]);
        Assert.Equal("foobar", options["access-token"]);
        Assert.Equal("5000", options["source-listen-port"]);
    }

    [Fact]
    public void The_composition_example_reads_an_ipv6_bind_address_and_a_ca_path()
    {
        var options = ConfigFile.Parse("capath = /opt/rootca\nregion = us-west-2\nlocal-bind-address = ::1\nsource-listen-port = 6000\n");

        Assert.Equal("/opt/rootca", options["capath"]);
        Assert.Equal("::1", options["local-bind-address"]);
    }

    [Fact]
    public void Comments_blank_lines_spacing_and_crlf_are_allowed()
    {
        var options = ConfigFile.Parse("# my tunnel\r\n\r\n   region=eu-west-1   # Ireland\r\nverbose =5\r\n\t# indented comment\r\nmode= dst\r\n");

        Assert.Equal(3, options.Count);
        Assert.Equal("eu-west-1", options["region"]);
        Assert.Equal("5", options["verbose"]);
        Assert.Equal("dst", options["mode"]);
    }

    [Fact]
    public void Every_documented_long_option_is_accepted()
    {
        string text = string.Join("\n", ConfigFile.Keys.Select(k => $"{k} = {(k == ConfigFile.NoSslHostVerify ? "true" : "x")}"));

        var options = ConfigFile.Parse(text);

        Assert.Equal(ConfigFile.Keys, options.Keys);
        foreach (var key in new[] { "region", "access-token", "client-token", "proxy-endpoint", "source-listen-port", "destination-app",
                     "local-bind-address", "capath", "mode", "verbose", "destination-client-type", "config-dir", "settings-json", "no-ssl-host-verify" })
        {
            Assert.Contains(key, options.Keys);
        }
    }

    [Fact]
    public void A_value_may_contain_equals_signs()
    {
        var options = ConfigFile.Parse("access-token = AQGAAXi+abc/def==");

        Assert.Equal("AQGAAXi+abc/def==", options["access-token"]);
    }

    [Theory]
    [InlineData("true", "true")]
    [InlineData("", "true")]
    [InlineData("yes", "true")]
    [InlineData("1", "true")]
    [InlineData("false", "false")]
    [InlineData("off", "false")]
    public void The_host_verification_switch_is_normalised(string value, string expected)
    {
        var options = ConfigFile.Parse($"no-ssl-host-verify = {value}");

        Assert.Equal(expected, options[ConfigFile.NoSslHostVerify]);
    }

    [Fact]
    public void Quoted_values_are_kept_literally_with_a_warning_like_the_reference()
    {
        var logs = new LogCapture();

        var options = ConfigFile.Parse("region = \"us-east-1\"", "config.ini", logs.CreateLogger("test"));

        Assert.Equal("\"us-east-1\"", options["region"]);
        Assert.Contains(logs.Lines, l => l.StartsWith("Warning") && l.Contains("config.ini:1") && l.Contains("'region'") && l.Contains("quotes"));
    }

    [Fact]
    public void An_unknown_key_names_the_key_and_the_line()
    {
        var error = Assert.Throws<SettingsException>(() => ConfigFile.Parse("region = us-east-1\n\nregoin = us-east-1", "config.ini"));

        Assert.StartsWith("config.ini:3: 'regoin' is not an option", error.Message);
        Assert.Contains("region", error.Message);
        Assert.Equal("regoin", error.Key);
        Assert.Equal("config.ini:3", error.Origin);
    }

    [Theory]
    [InlineData("--region = x", "Did you mean 'region'?")]
    [InlineData("Region = x", "Did you mean 'region'?")]
    [InlineData("config = other.ini", "only works on the command line")]
    [InlineData("SSH1 = 22", "--config-dir")]
    public void An_unknown_key_gets_a_hint(string line, string hint)
    {
        var error = Assert.Throws<SettingsException>(() => ConfigFile.Parse(line, "config.ini"));

        Assert.Contains(hint, error.Message);
    }

    [Fact]
    public void A_line_without_equals_names_the_line_and_does_not_echo_it()
    {
        var error = Assert.Throws<SettingsException>(() => ConfigFile.Parse("# tokens\nAQGAAXiSecretTokenPastedAlone\n", "config.ini"));

        Assert.StartsWith("config.ini:2: the line has no '='", error.Message);
        Assert.DoesNotContain("AQGAAXiSecret", error.Message);
    }

    [Fact]
    public void A_repeated_option_names_both_lines()
    {
        var error = Assert.Throws<SettingsException>(() => ConfigFile.Parse("region = a\nverbose = 4\nregion = b", "config.ini"));

        Assert.StartsWith("config.ini:3: option 'region' is given again (first on line 1)", error.Message);
    }

    [Fact]
    public void An_empty_value_is_an_error_naming_the_option()
    {
        var error = Assert.Throws<SettingsException>(() => ConfigFile.Parse("access-token =", "config.ini"));

        Assert.StartsWith("config.ini:1: option 'access-token' has no value", error.Message);
    }

    [Fact]
    public void A_bad_switch_value_is_an_error()
    {
        var error = Assert.Throws<SettingsException>(() => ConfigFile.Parse("no-ssl-host-verify = sometimes", "config.ini"));

        Assert.Contains("'sometimes'", error.Message);
        Assert.Contains("true or false", error.Message);
    }

    [Fact]
    public void A_section_line_is_ignored_with_a_warning_naming_the_line()
    {
        var logs = new AwsTunnel.Tests.Support.LogCapture();

        var options = ConfigFile.Parse("[proxy]\nregion = x\n[more]", "config.ini", logs.CreateLogger("test"));

        Assert.Equal("x", Assert.Single(options).Value);
        Assert.Equal(2, logs.Lines.Count(l => l.Contains("section line", StringComparison.Ordinal)));
        Assert.Contains(logs.Lines, l => l.Contains("config.ini:1", StringComparison.Ordinal) && l.Contains("[proxy]", StringComparison.Ordinal));
    }

    [Fact]
    public void An_option_given_in_two_sections_is_still_given_twice()
    {
        var error = Assert.Throws<SettingsException>(() => ConfigFile.Parse("[a]\nregion = x\n[b]\nregion = y", "config.ini"));

        Assert.Contains("config.ini:4", error.Message);
        Assert.Contains("given again", error.Message);
    }

    [Fact]
    public void Load_reads_a_file_with_a_byte_order_mark_and_names_a_missing_one()
    {
        using var temp = new TempDirectory();
        string path = Path.Combine(temp.Path, "config.ini");
        File.WriteAllText(path, "region = us-east-1\n", new System.Text.UTF8Encoding(encoderShouldEmitUTF8Identifier: true));

        Assert.Equal("us-east-1", ConfigFile.Load(path)["region"]);

        var error = Assert.Throws<SettingsException>(() => ConfigFile.Load(Path.Combine(temp.Path, "missing.ini")));
        Assert.Contains("missing.ini' does not exist", error.Message);
    }

    [Fact]
    public void Errors_in_a_loaded_file_name_the_file_and_line()
    {
        using var temp = new TempDirectory();
        string path = temp.Write("config.ini", "region = us-east-1\nport = 5\n");

        var error = Assert.Throws<SettingsException>(() => ConfigFile.Load(path));

        Assert.StartsWith($"{path}:2:", error.Message);
    }
}
