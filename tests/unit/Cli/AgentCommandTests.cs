using AwsTunnel.Tests.Agent;
using AwsTunnel.Tests.Support;

namespace AwsTunnel.Tests.Cli;

/// <summary><c>awstunnel agent</c> and <c>awstunnel service --mqtt-broker</c>: the device side on the command line.</summary>
public sealed class AgentCommandTests
{
    [Fact]
    public async Task The_whole_flow_on_one_machine_with_the_command_line()
    {
        await using var echo = new EchoServer();
        var service = CliRun.Start(new[] { "service", "--mqtt-broker", "embedded", "--thing-name", "dev42", "--tunnel", "ECHO", "-v", "0" });
        string listening = await service.WaitForOutputLineAsync(l => l.StartsWith("Local tunneling service listening on ", StringComparison.Ordinal));
        string endpoint = listening["Local tunneling service listening on ".Length..];
        string published = await service.WaitForOutputLineAsync(l => l.StartsWith("Tunnel notifications are published to ", StringComparison.Ordinal));
        string broker = published["Tunnel notifications are published to ".Length..];
        await service.WaitForOutputLineAsync(l => l.StartsWith("Waiting for a tunnel agent to subscribe to $aws/things/dev42/tunnels/notify", StringComparison.Ordinal));

        var agent = CliRun.Start(new[] { "agent", "--thing-name", "dev42", "--broker", broker, "-e", endpoint, "-d", $"ECHO=127.0.0.1:{echo.Port}", "-v", "6" });
        await agent.WaitForOutputLineAsync(l => l.StartsWith("Subscribed to $aws/things/dev42/tunnels/notify on " + broker, StringComparison.Ordinal));

        string example = await service.WaitForOutputLineAsync(l => l.StartsWith("AWSIOT_TUNNEL_ACCESS_TOKEN=", StringComparison.Ordinal) && l.EndsWith("-m source", StringComparison.Ordinal), 30000);
        await agent.WaitForOutputLineAsync(l => l.StartsWith("Serving tunnel ", StringComparison.Ordinal) && l.Contains($"ECHO -> 127.0.0.1:{echo.Port}"), 30000);
        var words = example.Split(' ');
        string token = words[0]["AWSIOT_TUNNEL_ACCESS_TOKEN=".Length..];
        var source = CliRun.Start(words[2..], new Dictionary<string, string?> { ["AWSIOT_TUNNEL_ACCESS_TOKEN"] = token });
        string line = await source.WaitForOutputLineAsync(l => l.StartsWith("Listening for ECHO on 127.0.0.1:", StringComparison.Ordinal), 30000);
        int port = int.Parse(line[(line.LastIndexOf(':') + 1)..]);
        using (var client = await TcpProbe.ConnectAsync(port))
        {
            Assert.Equal("through the agent", await TcpProbe.EchoAsync(client, "through the agent"));
        }

        Assert.Equal(0, await source.StopAsync());
        Assert.Equal(0, await agent.StopAsync());
        Assert.Equal(0, await service.StopAsync());
        string destinationToken = service.Out.ToString().Split('\n').Select(l => l.Trim())
            .First(l => l.StartsWith("destination access token:", StringComparison.Ordinal))["destination access token:".Length..].Trim();
        TokenHygiene.AssertAbsent(agent.Out.ToString() + agent.Error, destinationToken, token);
        Assert.Contains("Ended tunnel ", agent.Out.ToString());
    }

    [Fact]
    public async Task An_unreachable_broker_exits_6_naming_it()
    {
        var run = await CliRun.CompleteAsync(new[] { "agent", "--thing", "dev42", "--broker", "mqtt://127.0.0.1:9", "--start-timeout", "2", "-v", "0" });
        Assert.Equal(6, run.ExitCode);
        Assert.Contains(run.ErrorLines, l => l.Contains("mqtt://127.0.0.1:9 within 2 s", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("--broker,http://x", "scheme 'http'")]
    [InlineData("--broker,mqtt://127.0.0.1,--key,k.pem", "--key needs --cert")]
    [InlineData("--broker,mqtt://127.0.0.1,-d,22", "has no service id")]
    [InlineData("--broker,mqtt://127.0.0.1,--max-tunnels,0", "at least 1")]
    public async Task Bad_arguments_exit_2_saying_what_to_give(string arguments, string expected)
    {
        var run = await CliRun.CompleteAsync(new[] { "agent", "--thing", "dev42" }.Concat(arguments.Split(',')).ToArray());
        Assert.Equal(2, run.ExitCode);
        Assert.Contains(run.ErrorLines, l => l.Contains(expected, StringComparison.Ordinal));
    }
}
