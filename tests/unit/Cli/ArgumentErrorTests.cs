namespace AwsTunnel.Tests.Cli;

/// <summary>Wrong command lines exit with 2 and one stderr line that names the flag to fix.</summary>
public class ArgumentErrorTests
{
    private static readonly Dictionary<string, string?> WithToken = new() { ["AWSIOT_TUNNEL_ACCESS_TOKEN"] = "token-from-the-environment" };

    [Fact]
    public async Task A_region_and_an_endpoint_together_are_refused_as_mutually_exclusive()
    {
        var run = await CliRun.CompleteAsync(new[] { "-r", "us-east-1", "-e", "127.0.0.1:443", "-s", "5555" }, WithToken);

        AssertOneUsageError(run, "-r/--region", "-e/--proxy-endpoint");
    }

    [Fact]
    public async Task A_region_and_an_endpoint_both_in_the_environment_are_refused_naming_the_variables()
    {
        var environment = new Dictionary<string, string?>(WithToken)
        {
            ["AWSIOT_TUNNEL_REGION"] = "us-east-1",
            ["AWSIOT_TUNNEL_ENDPOINT"] = "127.0.0.1:443",
        };

        var run = await CliRun.CompleteAsync(new[] { "-s", "5555" }, environment);

        AssertOneUsageError(run, "AWSIOT_TUNNEL_REGION", "AWSIOT_TUNNEL_ENDPOINT");
    }

    [Fact]
    public async Task No_region_and_no_endpoint_is_refused_naming_both_flags()
    {
        var run = await CliRun.CompleteAsync(new[] { "-s", "5555" }, WithToken);

        AssertOneUsageError(run, "-r/--region", "-e/--proxy-endpoint");
    }

    [Fact]
    public async Task No_access_token_is_refused_pointing_at_the_environment_variable()
    {
        var run = await CliRun.CompleteAsync(new[] { "-r", "us-east-1", "-s", "5555" });

        AssertOneUsageError(run, "AWSIOT_TUNNEL_ACCESS_TOKEN", "-t/--access-token");
    }

    [Fact]
    public async Task A_malformed_client_token_is_refused_with_the_rule_and_without_echoing_it()
    {
        var run = await CliRun.CompleteAsync(new[] { "-r", "us-east-1", "-s", "5555", "-i", "too_short!" }, WithToken);

        AssertOneUsageError(run, "-i/--client-token", "^[a-zA-Z0-9-]{32,128}$");
        Assert.DoesNotContain("too_short!", run.Error.ToString());
    }

    [Fact]
    public async Task A_source_mapping_without_a_port_is_refused_naming_the_flag()
    {
        var run = await CliRun.CompleteAsync(new[] { "-r", "us-east-1", "-s", "SSH1=" }, WithToken);

        AssertOneUsageError(run, "-s/--source-listen-port", "SSH1=");
    }

    [Fact]
    public async Task A_destination_target_with_a_bad_port_is_refused_naming_the_flag()
    {
        var run = await CliRun.CompleteAsync(new[] { "-r", "us-east-1", "-d", "SSH1=host:99999" }, WithToken);

        AssertOneUsageError(run, "-d/--destination-app");
    }

    [Fact]
    public async Task Both_source_and_destination_mappings_without_a_mode_are_refused_asking_for_the_mode()
    {
        var run = await CliRun.CompleteAsync(new[] { "-r", "us-east-1", "-s", "5555", "-d", "22" }, WithToken);

        AssertOneUsageError(run, "-m/--mode");
    }

    [Fact]
    public async Task An_unknown_mode_is_refused_listing_the_accepted_ones()
    {
        var run = await CliRun.CompleteAsync(new[] { "-r", "us-east-1", "-m", "sideways" }, WithToken);

        AssertOneUsageError(run, "-m/--mode", "source", "destination");
    }

    [Fact]
    public async Task Destination_mode_without_a_target_is_refused_naming_the_destination_flag()
    {
        var run = await CliRun.CompleteAsync(new[] { "-r", "us-east-1", "-m", "dst" }, WithToken);

        AssertOneUsageError(run, "-d/--destination-app");
    }

    [Theory]
    [InlineData("65536")]
    [InlineData("-1")]
    [InlineData("loud")]
    public async Task A_verbosity_the_reference_also_refuses_is_refused(string verbosity)
    {
        var run = await CliRun.CompleteAsync(new[] { "-r", "us-east-1", "-s", "5555", "-v", verbosity }, WithToken);

        AssertOneUsageError(run, "-v/--verbose");
    }

    [Fact]
    public async Task A_missing_certificate_directory_is_refused_naming_the_flag()
    {
        var run = await CliRun.CompleteAsync(new[] { "-r", "us-east-1", "-s", "5555", "-c", "/no/such/directory/for/awstunnel" }, WithToken);

        AssertOneUsageError(run, "-c/--capath");
    }

    [Fact]
    public async Task An_unknown_flag_is_refused_with_a_pointer_to_help()
    {
        var run = await CliRun.CompleteAsync(new[] { "-r", "us-east-1", "--frobnicate" }, WithToken);

        AssertOneUsageError(run, "--frobnicate", "--help");
    }

    [Fact]
    public async Task A_missing_settings_file_is_refused_naming_the_flag_and_the_file()
    {
        var run = await CliRun.CompleteAsync(new[] { "-r", "us-east-1", "-s", "5555", "--settings-json", "no-such-lpsettings.json" }, WithToken);

        AssertOneUsageError(run, "--settings-json", "no-such-lpsettings.json");
    }

    private static void AssertOneUsageError(CliRun run, params string[] mentions)
    {
        Assert.Equal(2, run.ExitCode);
        string stderr = run.Error.ToString();
        var line = Assert.Single(run.ErrorLines);
        Assert.Equal(line, stderr.Trim());
        foreach (var mention in mentions)
        {
            Assert.Contains(mention, line);
        }

        Assert.DoesNotContain("   at ", stderr);
        Assert.Equal(string.Empty, run.Out.ToString());
    }
}
