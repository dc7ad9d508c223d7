using System.Net;
using System.Net.Sockets;
using AwsTunnel.Cli;
using AwsTunnel.Tests.Settings;
using AwsTunnel.Tests.Support;

namespace AwsTunnel.Tests.Cli;

/// <summary>
/// <c>awstunnel</c> in place of the reference <c>localproxy</c> (issue 13): what the reference
/// accepts is accepted (with a warning where AwsTunnel reads it differently), what it honours is honoured.
/// </summary>
public class DropInTests
{
    private const string ClientToken = "0123456789abcdef0123456789abcdef";

    // 1. AWSIOT_TUNNEL_CLIENT_TOKEN

    [Fact]
    public async Task A_restarted_proxy_reuses_AWSIOT_TUNNEL_CLIENT_TOKEN_and_gets_the_tunnel_back()
    {
        await using var local = await LocalServiceFixture.StartAsync("SSH1");
        var environment = local.Environment(local.Tunnel.SourceAccessToken);
        environment["AWSIOT_TUNNEL_CLIENT_TOKEN"] = ClientToken;

        for (int run = 0; run < 2; run++)
        {
            var proxy = CliRun.Start(new[] { "-s", "SSH1=0" }, environment);
            await proxy.WaitForOutputLineAsync(l => l.StartsWith("Listening for SSH1", StringComparison.Ordinal));
            Assert.Equal(0, await proxy.StopAsync());
        }

        environment["AWSIOT_TUNNEL_CLIENT_TOKEN"] = "ffffffffffffffffffffffffffffffff";
        var other = await CliRun.CompleteAsync(new[] { "-s", "SSH1=0" }, environment);
        Assert.Equal(ExitCodes.HandshakeRejected, other.ExitCode);
    }

    [Fact]
    public async Task A_short_client_token_in_the_environment_exits_2_naming_the_variable_not_the_value()
    {
        var environment = new Dictionary<string, string?>
        {
            ["AWSIOT_TUNNEL_ACCESS_TOKEN"] = "token",
            ["AWSIOT_TUNNEL_ENDPOINT"] = "127.0.0.1:1",
            ["AWSIOT_TUNNEL_CLIENT_TOKEN"] = "short-secret",
        };

        var run = await CliRun.CompleteAsync(new[] { "-s", "0" }, environment);

        Assert.Equal(ExitCodes.Usage, run.ExitCode);
        var line = Assert.Single(run.ErrorLines);
        Assert.Contains("AWSIOT_TUNNEL_CLIENT_TOKEN", line);
        Assert.DoesNotContain("short-secret", run.Error.ToString());
    }

    // 2. an unnamed port on a tunnel with several services

    [Fact]
    public async Task An_unnamed_source_port_on_a_two_service_tunnel_serves_the_first_service_there()
    {
        await using var local = await LocalServiceFixture.StartAsync("SSH1", "HTTP");
        int port = TestPorts.FreeOutsideEphemeralRange();

        var run = CliRun.Start(new[] { "-s", port.ToString(), "-b", "127.0.0.1" }, local.Environment(local.Tunnel.SourceAccessToken));

        Assert.Equal($"Listening for SSH1 on 127.0.0.1:{port}",
            await run.WaitForOutputLineAsync(l => l.StartsWith("Listening for SSH1", StringComparison.Ordinal)));
        await run.WaitForOutputLineAsync(l => l.StartsWith("Listening for HTTP on 127.0.0.1:", StringComparison.Ordinal));
        Assert.Equal(0, await run.StopAsync());
        Assert.Contains("names no service", run.Error.ToString());
    }

    [Fact]
    public async Task An_unnamed_destination_target_on_a_two_service_tunnel_takes_every_service()
    {
        await using var local = await LocalServiceFixture.StartAsync("SSH1", "HTTP");

        var run = CliRun.Start(new[] { "-d", "127.0.0.1:22" }, local.Environment(local.Tunnel.DestinationAccessToken));

        await run.WaitForOutputLineAsync(l => l == "Forwarding HTTP to 127.0.0.1:22");
        await run.WaitForOutputLineAsync(l => l == "Forwarding SSH1 to 127.0.0.1:22");
        Assert.Equal(0, await run.StopAsync());
    }

    // 3. websocket.connect_retry_count for the first connection

    [Theory]
    [InlineData("0", 1)]
    [InlineData("2", 3)]
    public async Task The_first_connection_is_tried_once_plus_connect_retry_count_times(string retries, int attempts)
    {
        // A front end that answers every upgrade with 503, once per connection: one connection per attempt.
        using var refusing = new TcpListener(IPAddress.Loopback, 0);
        refusing.Start();
        int accepted = 0;
        _ = Task.Run(async () =>
        {
            while (true)
            {
                using var socket = await refusing.AcceptSocketAsync();
                Interlocked.Increment(ref accepted);
                var buffer = new byte[8192];
                int read = 0;
                while (!System.Text.Encoding.ASCII.GetString(buffer, 0, read).Contains("\r\n\r\n", StringComparison.Ordinal))
                {
                    int got = await socket.ReceiveAsync(buffer.AsMemory(read));
                    if (got == 0)
                    {
                        break;
                    }

                    read += got;
                }

                await socket.SendAsync("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"u8.ToArray());
                socket.Shutdown(SocketShutdown.Both);
            }
        });
        using var dir = new TempDirectory();
        string settings = dir.Write("lpsettings.json",
            """{"tunneling":{"proxy":{"websocket":{"connect_retry_count":""" + $"\"{retries}\"" + ""","retry_delay_ms":"10"}}}}""");
        var environment = new Dictionary<string, string?>
        {
            ["AWSIOT_TUNNEL_ACCESS_TOKEN"] = "token",
            ["AWSIOT_TUNNEL_ENDPOINT"] = $"ws://127.0.0.1:{((IPEndPoint)refusing.LocalEndpoint).Port}",
        };

        var run = await CliRun.CompleteAsync(new[] { "-s", "0", "--settings-json", settings }, environment);

        Assert.Equal(ExitCodes.Unreachable, run.ExitCode);
        Assert.Equal(attempts, Volatile.Read(ref accepted));
        Assert.Contains($"Gave up after {attempts} attempt", Assert.Single(run.ErrorLines));
    }

    // 5. accepted where the reference accepts

    [Fact]
    public async Task Bind_address_in_destination_mode_is_the_host_of_a_target_given_as_a_port()
    {
        await using var local = await LocalServiceFixture.StartAsync("SSH1");

        var run = CliRun.Start(new[] { "-d", "SSH1=22", "-b", "127.0.0.2" }, local.Environment(local.Tunnel.DestinationAccessToken));

        await run.WaitForOutputLineAsync(l => l == "Forwarding SSH1 to 127.0.0.2:22");
        Assert.Equal(0, await run.StopAsync());
    }

    [Theory]
    [InlineData("V1")]
    [InlineData("V2")]
    public async Task A_destination_client_type_is_taken_in_destination_mode(string type)
    {
        await using var local = await LocalServiceFixture.StartAsync("SSH1");

        var run = CliRun.Start(new[] { "-d", "SSH1=127.0.0.1:22", "-y", type }, local.Environment(local.Tunnel.DestinationAccessToken));

        await run.WaitForOutputLineAsync(l => l.StartsWith("Forwarding SSH1", StringComparison.Ordinal));
        Assert.Equal(0, await run.StopAsync());
        Assert.Empty(run.ErrorLines);
    }

    [Fact]
    public async Task An_unknown_destination_client_type_warns_and_runs_as_V3()
    {
        await using var local = await LocalServiceFixture.StartAsync("SSH1");

        var run = CliRun.Start(new[] { "-s", "SSH1=0", "-y", "V9" }, local.Environment(local.Tunnel.SourceAccessToken));

        await run.WaitForOutputLineAsync(l => l.StartsWith("Listening for SSH1", StringComparison.Ordinal));
        Assert.Equal(0, await run.StopAsync());
        var warning = Assert.Single(run.Error.ToString().Split('\n'), l => l.Contains("[warning]", StringComparison.Ordinal));
        Assert.Contains("-y/--destination-client-type 'V9'", warning);
        Assert.Contains("using V3", warning);
    }

    [Theory]
    [InlineData("7")]
    [InlineData("255")]
    public async Task A_verbosity_above_6_is_trace(string verbosity)
    {
        await using var local = await LocalServiceFixture.StartAsync("SSH1");

        var run = CliRun.Start(new[] { "-s", "SSH1=0", "-v", verbosity }, local.Environment(local.Tunnel.SourceAccessToken));

        await run.WaitForOutputLineAsync(l => l.StartsWith("Listening for SSH1", StringComparison.Ordinal));
        Assert.Equal(0, await run.StopAsync());
        Assert.Contains(run.Error.ToString().Split('\n'), l => l.Contains("[trace] Upgrade request", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Section_lines_in_a_config_file_are_ignored_with_a_warning()
    {
        await using var local = await LocalServiceFixture.StartAsync("SSH1");
        using var dir = new TempDirectory();
        string config = dir.Write("config.ini", $"[localproxy]\nproxy-endpoint = {local.Endpoint}\nsource-listen-port = SSH1=0\n");

        var run = CliRun.Start(new[] { "--config", config }, new Dictionary<string, string?> { ["AWSIOT_TUNNEL_ACCESS_TOKEN"] = local.Tunnel.SourceAccessToken });

        await run.WaitForOutputLineAsync(l => l.StartsWith("Listening for SSH1", StringComparison.Ordinal));
        Assert.Equal(0, await run.StopAsync());
        Assert.Contains("section line '[localproxy]' ignored", run.Error.ToString());
    }

    [Fact]
    public async Task A_ping_period_of_0_is_taken_as_the_shortest_period_with_a_warning()
    {
        await using var local = await LocalServiceFixture.StartAsync("SSH1");
        using var dir = new TempDirectory();
        string settings = dir.Write("lpsettings.json", """{"tunneling":{"proxy":{"websocket":{"ping_period_ms":"0"}}}}""");

        var run = CliRun.Start(new[] { "-s", "SSH1=0", "--settings-json", settings }, local.Environment(local.Tunnel.SourceAccessToken));

        await run.WaitForOutputLineAsync(l => l.StartsWith("Listening for SSH1", StringComparison.Ordinal));
        Assert.Equal(0, await run.StopAsync());
        Assert.Contains(run.Error.ToString().Split('\n'), l => l.Contains("[warning]", StringComparison.Ordinal) && l.Contains("ping_period_ms", StringComparison.Ordinal));
    }

    // 6. the default config directory is ./config in the working directory

    [Fact]
    public void The_default_config_directory_is_the_working_directorys_config_folder()
    {
        Assert.Equal(Environment.CurrentDirectory, new ProxyArguments().WorkingDirectory);
    }

    // 9. smaller differences

    [Fact]
    public async Task Warnings_are_silent_at_verbosity_0_like_every_other_log_record()
    {
        await using var local = await LocalServiceFixture.StartAsync("SSH1");

        var quiet = CliRun.Start(new[] { "-s", "SSH1=0", "-k", "-v", "0" }, local.Environment(local.Tunnel.SourceAccessToken));
        await quiet.WaitForOutputLineAsync(l => l.StartsWith("Listening for SSH1", StringComparison.Ordinal));
        Assert.Equal(0, await quiet.StopAsync());

        Assert.Equal(string.Empty, quiet.Error.ToString());
    }

    [Fact]
    public async Task The_ready_log_line_gives_the_port_a_source_was_assigned()
    {
        await using var local = await LocalServiceFixture.StartAsync("SSH1", "SSH2");

        var run = CliRun.Start(new[] { "-s", "SSH1=0,SSH2=0" }, local.Environment(local.Tunnel.SourceAccessToken));
        string line = await run.WaitForOutputLineAsync(l => l.StartsWith("Listening for SSH2", StringComparison.Ordinal));
        Assert.Equal(0, await run.StopAsync());

        string port = line[(line.LastIndexOf(':') + 1)..];
        var ready = Assert.Single(run.Error.ToString().Split('\n'), l => l.Contains("Tunnel ready", StringComparison.Ordinal));
        Assert.Contains($"SSH2={port}", ready);
        Assert.DoesNotContain("=0", ready);
    }

    [Fact]
    public async Task A_stop_signal_during_the_first_connect_exits_0()
    {
        using var silent = new SilentServer();
        var environment = new Dictionary<string, string?>
        {
            ["AWSIOT_TUNNEL_ACCESS_TOKEN"] = "token",
            ["AWSIOT_TUNNEL_ENDPOINT"] = $"ws://127.0.0.1:{silent.Port}",
        };

        var run = CliRun.Start(new[] { "-s", "0", "-v", "6" }, environment);
        await Eventually.TrueAsync(() => run.Error.ToString().Contains("Upgrade request", StringComparison.Ordinal), "the first connect to be under way", 15000);

        Assert.Equal(ExitCodes.Success, await run.StopAsync());
        Assert.Empty(run.ErrorLines);
    }

    [Theory]
    [InlineData("-t")]
    [InlineData("AWSIOT_TUNNEL_ACCESS_TOKEN")]
    public async Task An_access_token_with_a_line_break_exits_2_naming_the_token(string via)
    {
        const string token = "first-line\r\nsecond-line";
        var environment = new Dictionary<string, string?> { ["AWSIOT_TUNNEL_ENDPOINT"] = "127.0.0.1:1" };
        var args = new List<string> { "-s", "0" };
        if (via == "-t")
        {
            args.AddRange(new[] { "-t", token });
        }
        else
        {
            environment[via] = token;
        }

        var run = await CliRun.CompleteAsync(args.ToArray(), environment);

        Assert.Equal(ExitCodes.Usage, run.ExitCode);
        var line = Assert.Single(run.ErrorLines);
        Assert.Contains("access token", line);
        Assert.Contains(via, line);
        Assert.DoesNotContain("second-line", run.Error.ToString());
        Assert.DoesNotContain(".NET", line);
    }
}
