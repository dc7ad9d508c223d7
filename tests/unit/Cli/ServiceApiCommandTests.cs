using AwsTunnel.Tests.Support;

namespace AwsTunnel.Tests.Cli;

/// <summary><c>awstunnel service</c> and the Secure Tunneling API it serves.</summary>
public class ServiceApiCommandTests
{
    [Fact]
    public async Task The_service_prints_its_API_endpoint_and_the_variable_line_that_the_SDKs_read()
    {
        var run = CliRun.Start(new[] { "service", "-v", "0" });

        await run.WaitForOutputLineAsync(l => l.StartsWith("Secure Tunneling API on http://127.0.0.1:", StringComparison.Ordinal));
        string line = await run.WaitForOutputLineAsync(l => l.Trim().StartsWith("AWS_ENDPOINT_URL_IOTSECURETUNNELING=http://127.0.0.1:", StringComparison.Ordinal));
        var endpoint = new Uri(line.Trim()["AWS_ENDPOINT_URL_IOTSECURETUNNELING=".Length..]);
        using var api = new TunnelingApiClient(endpoint);
        var opened = await api.OkAsync("OpenTunnel", new { destinationConfig = new { services = new[] { "SSH" } } });

        Assert.NotNull(opened["sourceAccessToken"]);
        Assert.Equal(0, await run.StopAsync());
    }

    [Fact]
    public async Task Tunnels_past_max_open_tunnels_are_refused_as_a_usage_error()
    {
        var run = await CliRun.CompleteAsync(new[] { "service", "--max-open-tunnels", "1", "--tunnel", "SSH", "--tunnel", "WEB", "-v", "0" });

        Assert.NotEqual(0, run.ExitCode);
        Assert.Contains(run.ErrorLines, l => l.Contains("--tunnel 'WEB'") && l.Contains("1 open tunnels"));
    }
}
