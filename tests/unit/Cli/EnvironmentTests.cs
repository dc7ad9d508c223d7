namespace AwsTunnel.Tests.Cli;

/// <summary>The reference proxy's environment variables stand in for flags.</summary>
public class EnvironmentTests
{
    [Fact]
    public async Task A_malformed_https_proxy_is_refused_without_echoing_its_value()
    {
        var environment = new Dictionary<string, string?>
        {
            ["AWSIOT_TUNNEL_ACCESS_TOKEN"] = "token",
            ["AWSIOT_TUNNEL_REGION"] = "us-east-1",
            ["https_proxy"] = "not a url with p4ssw0rd",
        };

        var run = await CliRun.CompleteAsync(new[] { "-s", "5555" }, environment);

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("https_proxy", Assert.Single(run.ErrorLines));
        Assert.DoesNotContain("p4ssw0rd", run.Error.ToString());
    }

    [Fact]
    public async Task A_region_flag_takes_precedence_over_an_endpoint_in_the_environment()
    {
        var environment = new Dictionary<string, string?>
        {
            ["AWSIOT_TUNNEL_ENDPOINT"] = "127.0.0.1:443",
        };

        // No token, so the run stops right after the endpoint was accepted.
        var run = await CliRun.CompleteAsync(new[] { "-r", "us-east-1", "-s", "5555" }, environment);

        Assert.Contains("No access token", Assert.Single(run.ErrorLines));
        var warning = Assert.Single(run.Error.ToString().Split('\n'), l => l.Contains("[warning]", StringComparison.Ordinal));
        Assert.Contains("-r/--region overrides AWSIOT_TUNNEL_ENDPOINT", warning);
    }
}
