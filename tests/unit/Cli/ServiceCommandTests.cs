namespace AwsTunnel.Tests.Cli;

/// <summary><c>awstunnel service</c>: a local tunneling service from the command line.</summary>
public class ServiceCommandTests
{
    [Fact]
    public async Task The_service_prints_its_endpoint_and_each_tunnels_tokens_then_stops_with_exit_0()
    {
        var run = CliRun.Start(new[] { "service", "--tunnel", "SSH1,WEB", "-v", "0" });

        string endpoint = await run.WaitForOutputLineAsync(l => l.StartsWith("Local tunneling service listening on ws://127.0.0.1:", StringComparison.Ordinal));
        await run.WaitForOutputLineAsync(l => l.StartsWith("Tunnel ", StringComparison.Ordinal) && l.Contains("SSH1, WEB"));
        await run.WaitForOutputLineAsync(l => l.StartsWith("source access token:", StringComparison.Ordinal));
        await run.WaitForOutputLineAsync(l => l.StartsWith("destination access token:", StringComparison.Ordinal));
        await run.WaitForOutputLineAsync(l => l.StartsWith("AWSIOT_TUNNEL_ACCESS_TOKEN=", StringComparison.Ordinal) && l.Contains("-d SSH1="));

        Assert.Equal(0, await run.StopAsync());
        Assert.NotEmpty(endpoint);
    }

    [Fact]
    public async Task A_printed_example_command_line_connects_a_source()
    {
        var service = CliRun.Start(new[] { "service", "--tunnel", "SSH1", "-v", "0" });
        string example = await service.WaitForOutputLineAsync(l => l.StartsWith("AWSIOT_TUNNEL_ACCESS_TOKEN=", StringComparison.Ordinal) && l.EndsWith("-m source", StringComparison.Ordinal));
        string[] words = example.Split(' ');
        var environment = new Dictionary<string, string?> { ["AWSIOT_TUNNEL_ACCESS_TOKEN"] = words[0]["AWSIOT_TUNNEL_ACCESS_TOKEN=".Length..] };

        var source = CliRun.Start(words[2..], environment);

        await source.WaitForOutputLineAsync(l => l.StartsWith("Listening for SSH1 on 127.0.0.1:", StringComparison.Ordinal));
        Assert.Equal(0, await service.StopAsync());
        Assert.Equal(0, await source.Exit.WaitAsync(TimeSpan.FromSeconds(15)));
    }

    [Fact]
    public async Task With_tls_the_written_certificate_lets_a_proxy_verify_the_service()
    {
        string directory = Directory.CreateTempSubdirectory("awstunnel-cli-").FullName;
        try
        {
            var service = CliRun.Start(new[] { "service", "--tls", "--cert-out", Path.Combine(directory, "local.pem"), "--tunnel", "SSH1", "-v", "0" });
            string example = await service.WaitForOutputLineAsync(l => l.StartsWith("AWSIOT_TUNNEL_ACCESS_TOKEN=", StringComparison.Ordinal) && l.EndsWith("-m source", StringComparison.Ordinal));
            string[] words = example.Split(' ');
            Assert.Contains("wss://localhost:", example);
            Assert.Contains($"-c {directory}", example);
            var environment = new Dictionary<string, string?> { ["AWSIOT_TUNNEL_ACCESS_TOKEN"] = words[0]["AWSIOT_TUNNEL_ACCESS_TOKEN=".Length..] };

            var source = CliRun.Start(words[2..], environment);

            await source.WaitForOutputLineAsync(l => l.StartsWith("Listening for SSH1", StringComparison.Ordinal));
            Assert.Equal(0, await source.StopAsync());
            Assert.Equal(0, await service.StopAsync());
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task A_certificate_file_without_tls_is_refused()
    {
        var run = await CliRun.CompleteAsync(new[] { "service", "--cert-out", "local.pem" });

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("--tls", Assert.Single(run.ErrorLines));
    }
}
