namespace AwsTunnel.Tests.Cli;

/// <summary>Access tokens are secrets: the CLI warns when one is on the command line and never prints one.</summary>
public class TokenHandlingTests
{
    private const string Secret = "SeCrEtToKeN0123456789abcdefghijklmnop";

    [Fact]
    public async Task A_token_given_with_t_draws_a_warning_recommending_the_environment_variable()
    {
        var run = await CliRun.CompleteAsync(new[] { "-t", Secret, "-s", "5555" });

        var warning = Assert.Single(run.Error.ToString().Split('\n'), l => l.Contains("[warning]", StringComparison.Ordinal));
        Assert.Contains("-t/--access-token", warning);
        Assert.Contains("AWSIOT_TUNNEL_ACCESS_TOKEN", warning);
    }

    [Fact]
    public async Task A_token_given_with_t_is_never_echoed()
    {
        var run = await CliRun.CompleteAsync(new[] { "-t", Secret, "-s", "5555" });

        Assert.DoesNotContain(Secret, run.Error.ToString());
        Assert.DoesNotContain(Secret, run.Out.ToString());
    }

    [Fact]
    public async Task A_token_from_the_environment_draws_no_warning()
    {
        var run = await CliRun.CompleteAsync(new[] { "-s", "5555" }, new Dictionary<string, string?> { ["AWSIOT_TUNNEL_ACCESS_TOKEN"] = Secret });

        Assert.DoesNotContain("warning", run.Error.ToString());
    }
}
