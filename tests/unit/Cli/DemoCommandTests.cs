namespace AwsTunnel.Tests.Cli;

/// <summary><c>awstunnel demo</c>: a whole tunnel in one process, data checked end to end.</summary>
public class DemoCommandTests
{
    [Fact]
    public async Task The_demo_sends_8_MiB_through_a_tunnel_and_exits_0_when_the_echo_matches()
    {
        var run = await CliRun.CompleteAsync(new[] { "demo" }, timeoutSeconds: 120);

        Assert.True(run.ExitCode == 0, $"exit {run.ExitCode}\n{run.Out}\n{run.Error}");
        string output = run.Out.ToString();
        Assert.Contains("Echoed 8,388,608 bytes", output);
        Assert.Contains("OK:", output);
    }

    [Fact]
    public async Task The_demo_over_tls_trusts_the_services_certificate_and_exits_0()
    {
        var run = await CliRun.CompleteAsync(new[] { "demo", "--tls", "--bytes", "1048576" }, timeoutSeconds: 120);

        Assert.True(run.ExitCode == 0, $"exit {run.ExitCode}\n{run.Out}\n{run.Error}");
        Assert.Contains("wss://localhost:", run.Out.ToString());
    }
}
