namespace AwsTunnel.Tests.Cli;

/// <summary>-V/--version and -h/--help answer and exit 0.</summary>
public class VersionAndHelpTests
{
    [Theory]
    [InlineData("-V")]
    [InlineData("--version")]
    public async Task The_version_flag_prints_the_version_and_exits_0(string flag)
    {
        var run = await CliRun.CompleteAsync(new[] { flag });

        Assert.Equal(0, run.ExitCode);
        Assert.Matches(@"^awstunnel \d+\.\d+\.\d+", run.Out.ToString().Trim());
    }

    [Fact]
    public async Task Help_lists_the_reference_flags_and_the_exit_codes()
    {
        var run = await CliRun.CompleteAsync(new[] { "--help" });

        Assert.Equal(0, run.ExitCode);
        string help = run.Out.ToString();
        foreach (var flag in new[] { "--access-token", "--client-token", "--region", "--proxy-endpoint", "--source-listen-port",
                     "--destination-app", "--mode", "--local-bind-address", "--capath", "--no-ssl-host-verify", "--verbose",
                     "--destination-client-type", "--version", "--config", "--config-dir", "--settings-json", "--export-default-settings" })
        {
            Assert.Contains(flag, help);
        }

        Assert.Contains("Exit codes:", help);
        Assert.Contains("3  handshake rejected", help);
    }
}
