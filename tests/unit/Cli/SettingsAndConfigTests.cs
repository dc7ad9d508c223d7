using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using AwsTunnel.Cli;
using AwsTunnel.Engine.Settings;
using AwsTunnel.Tests.Settings;
using AwsTunnel.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;

namespace AwsTunnel.Tests.Cli;

/// <summary>
/// The reference's files and environment through the CLI: --export-default-settings,
/// --settings-json, --config, --config-dir and HTTPS_PROXY.
/// </summary>
public class SettingsAndConfigTests
{
    private const string ProxyPassword = "pr0xy-pa55";

    [Fact]
    public async Task Export_default_settings_writes_every_key_and_needs_no_token()
    {
        using var dir = new TempDirectory();
        string path = Path.Combine(dir.Path, "lpsettings.json");

        var run = await CliRun.CompleteAsync(new[] { "--export-default-settings", path });

        Assert.Equal(0, run.ExitCode);
        Assert.Contains(path, run.Out.ToString());
        string json = File.ReadAllText(path);
        foreach (var key in new[] { "endpoint_format", "region_endpoint_overrides", "max_active_connections", "ping_period_ms" })
        {
            Assert.Contains($"\"{key}\"", json);
        }
    }

    [Fact]
    public async Task Export_to_a_directory_that_does_not_exist_is_a_usage_error_naming_the_file()
    {
        var run = await CliRun.CompleteAsync(new[] { "--export-default-settings", "/no/such/dir/lpsettings.json" });

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("/no/such/dir/lpsettings.json", Assert.Single(run.ErrorLines));
    }

    [Fact]
    public async Task A_settings_file_with_a_malformed_value_exits_2_naming_the_key_and_the_value()
    {
        using var dir = new TempDirectory();
        string json = Regex.Replace(
            ProxySettingsJson.Export(ProxySettings.Default),
            "\"max_active_connections\": \"\\d+\"", "\"max_active_connections\": \"lots\"");
        string path = dir.Write("lpsettings.json", json);
        var environment = new Dictionary<string, string?> { ["AWSIOT_TUNNEL_ACCESS_TOKEN"] = "secret-token-value" };

        var run = await CliRun.CompleteAsync(new[] { "-r", "us-east-1", "-s", "5555", "--settings-json", path }, environment);

        Assert.Equal(2, run.ExitCode);
        string line = Assert.Single(run.ErrorLines);
        Assert.Contains("max_active_connections", line);
        Assert.Contains("lots", line);
        Assert.DoesNotContain("secret-token-value", run.Error.ToString());
    }

    [Fact]
    public void Settings_json_endpoint_format_and_region_overrides_decide_where_a_region_points()
    {
        using var dir = new TempDirectory();
        string path = dir.Write("lpsettings.json", """
            {"tunneling":{"proxy":{
              "endpoint_format":"tunnel.%s.example.test",
              "region_endpoint_overrides":{"eu-west-1":"127.0.0.1:8443"}}}}
            """);
        var context = new CliContext(TextWriter.Null, TextWriter.Null, new Dictionary<string, string?>());

        var overridden = new ProxyArguments { Region = "eu-west-1", AccessToken = "t", SourcePorts = "0", SettingsJson = path }
            .ToTunnelOptions(context, NullLoggerFactory.Instance);
        var formatted = new ProxyArguments { Region = "us-west-2", AccessToken = "t", SourcePorts = "0", SettingsJson = path }
            .ToTunnelOptions(context, NullLoggerFactory.Instance);
        var byDefault = new ProxyArguments { Region = "us-west-2", AccessToken = "t", SourcePorts = "0" }
            .ToTunnelOptions(context, NullLoggerFactory.Instance);

        Assert.Equal("127.0.0.1", overridden.ServiceUri.Host);
        Assert.Equal(8443, overridden.ServiceUri.Port);
        Assert.Equal("tunnel.us-west-2.example.test", formatted.ServiceUri.Host);
        Assert.Equal("data.tunneling.iot.us-west-2.amazonaws.com", byDefault.ServiceUri.Host);
        Assert.Equal("tunnel.%s.example.test", overridden.Settings.EndpointFormat);
    }

    [Fact]
    public async Task A_config_file_supplies_the_options_and_the_token_flag_overrides_its_token()
    {
        // The reference's example: awstunnel --config config.ini -t foobar
        await using var local = await LocalServiceFixture.StartAsync("SSH1");
        using var dir = new TempDirectory();
        string config = dir.Write("config.ini", $"""
            # the reference's key = value lines
            proxy-endpoint = {local.Endpoint}
            source-listen-port = SSH1=0
            local-bind-address = 127.0.0.1
            access-token = not-the-right-token-0123
            """);

        var run = CliRun.Start(new[] { "--config", config, "-t", local.Tunnel.SourceAccessToken });

        await run.WaitForOutputLineAsync(l => l.StartsWith("Listening for SSH1 on 127.0.0.1:", StringComparison.Ordinal));
        Assert.Equal(0, await run.StopAsync());
        Assert.DoesNotContain("not-the-right-token-0123", run.Error.ToString());
    }

    [Fact]
    public async Task A_config_file_wins_over_the_environment()
    {
        await using var local = await LocalServiceFixture.StartAsync("SSH1");
        using var dir = new TempDirectory();
        string config = dir.Write("config.ini", $"""
            proxy-endpoint = {local.Endpoint}
            source-listen-port = SSH1=0
            access-token = {local.Tunnel.SourceAccessToken}
            """);
        var environment = new Dictionary<string, string?>
        {
            ["AWSIOT_TUNNEL_ACCESS_TOKEN"] = "wrong-token-from-the-environment",
            ["AWSIOT_TUNNEL_ENDPOINT"] = "127.0.0.1:1",
        };

        var run = CliRun.Start(new[] { "--config", config }, environment);

        await run.WaitForOutputLineAsync(l => l.StartsWith("Listening for SSH1", StringComparison.Ordinal));
        Assert.Equal(0, await run.StopAsync());
    }

    [Fact]
    public async Task An_unknown_key_in_a_config_file_exits_2_naming_the_file_and_line()
    {
        using var dir = new TempDirectory();
        string config = dir.Write("config.ini", "region = us-east-1\nfrobnicate = 1\n");

        var run = await CliRun.CompleteAsync(new[] { "--config", config, "-s", "5555" });

        Assert.Equal(2, run.ExitCode);
        string line = Assert.Single(run.ErrorLines);
        Assert.Contains($"{config}:2", line);
        Assert.Contains("frobnicate", line);
    }

    [Fact]
    public async Task A_config_dir_lets_a_destination_start_without_d_and_forward()
    {
        await using var local = await LocalServiceFixture.StartAsync("SSH1");
        await using var echo = new EchoServer();
        using var dir = new TempDirectory();
        dir.Write("ssh.ini", $"SSH1 = 127.0.0.1:{echo.Port}\n");

        var destination = CliRun.Start(new[] { "-m", "destination", "--config-dir", dir.Path }, local.Environment(local.Tunnel.DestinationAccessToken));
        await destination.WaitForOutputLineAsync(l => l == $"Forwarding SSH1 to 127.0.0.1:{echo.Port}");
        var source = CliRun.Start(new[] { "-s", "SSH1=0" }, local.Environment(local.Tunnel.SourceAccessToken));
        int port = PortOf(await source.WaitForOutputLineAsync(l => l.StartsWith("Listening for SSH1", StringComparison.Ordinal)));

        await AssertEchoesAsync(port);
        Assert.Equal(0, await source.StopAsync());
        Assert.Equal(0, await destination.StopAsync());
    }

    [Fact]
    public void An_endpoint_flag_overrides_a_region_in_the_config_file_with_a_warning_naming_both()
    {
        using var dir = new TempDirectory();
        string config = dir.Write("config.ini", "region = us-east-1\n");
        var stderr = new StringWriter();
        var context = new CliContext(TextWriter.Null, stderr, new Dictionary<string, string?> { ["AWSIOT_TUNNEL_ACCESS_TOKEN"] = "token" });
        using var loggerFactory = CliLogging.CreateFactory(Microsoft.Extensions.Logging.LogLevel.Warning, stderr);

        var options = new ProxyArguments { ConfigPath = config, Endpoint = "127.0.0.1:8443", SourcePorts = "0" }.ToTunnelOptions(context, loggerFactory);

        Assert.Equal(8443, options.ServiceUri.Port);
        string warning = Assert.Single(stderr.ToString().Split('\n'), l => l.Contains("[warning]", StringComparison.Ordinal));
        Assert.Contains("-e/--proxy-endpoint overrides region in config file " + config, warning);
    }

    [Fact]
    public async Task A_region_and_an_endpoint_both_in_the_config_file_are_refused_naming_both()
    {
        using var dir = new TempDirectory();
        string config = dir.Write("config.ini", "proxy-endpoint = 127.0.0.1:443\nregion = us-east-1\n");
        var environment = new Dictionary<string, string?> { ["AWSIOT_TUNNEL_ACCESS_TOKEN"] = "token" };

        var run = await CliRun.CompleteAsync(new[] { "--config", config, "-s", "5555" }, environment);

        Assert.Equal(2, run.ExitCode);
        string line = Assert.Single(run.ErrorLines);
        Assert.Contains("mutually exclusive", line);
        Assert.Contains("region in config file " + config, line);
        Assert.Contains("proxy-endpoint in config file " + config, line);
    }

    [Fact]
    public void The_default_config_dir_in_the_working_directory_is_used_only_when_it_exists()
    {
        using var dir = new TempDirectory();
        var context = new CliContext(TextWriter.Null, TextWriter.Null, new Dictionary<string, string?>());
        var arguments = new ProxyArguments { Mode = "destination", Endpoint = "127.0.0.1:443", AccessToken = "t", WorkingDirectory = dir.Path };

        Assert.Throws<UsageException>(() => arguments.ToTunnelOptions(context, NullLoggerFactory.Instance));

        dir.Write(Path.Combine("config", "ssh.ini"), "SSH1=127.0.0.1:22\n");
        var options = arguments.ToTunnelOptions(context, NullLoggerFactory.Instance);

        var mapping = Assert.Single(options.ConfigDirectoryServices);
        Assert.Equal("SSH1", mapping.ServiceId);
        Assert.Equal(22, mapping.Port);
    }

    [Fact]
    public async Task A_missing_config_dir_exits_2_naming_it()
    {
        var environment = new Dictionary<string, string?> { ["AWSIOT_TUNNEL_ACCESS_TOKEN"] = "token" };

        var run = await CliRun.CompleteAsync(new[] { "-r", "us-east-1", "-m", "destination", "--config-dir", "/no/such/awstunnel-config" }, environment);

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("/no/such/awstunnel-config", Assert.Single(run.ErrorLines));
    }

    [Fact]
    public async Task HTTPS_PROXY_with_credentials_carries_the_tunnel_through_a_real_proxy_without_printing_the_password()
    {
        await using var proxy = await TinyProxy.StartAsync("tunnel-user", ProxyPassword);
        await using var local = await LocalServiceFixture.StartAsync("SSH1");
        await using var echo = new EchoServer();
        var destination = CliRun.Start(new[] { "-d", $"SSH1=127.0.0.1:{echo.Port}" }, local.Environment(local.Tunnel.DestinationAccessToken));
        await destination.WaitForOutputLineAsync(l => l.StartsWith("Forwarding SSH1", StringComparison.Ordinal));
        var environment = local.Environment(local.Tunnel.SourceAccessToken);
        environment["HTTPS_PROXY"] = $"http://tunnel-user:{ProxyPassword}@127.0.0.1:{proxy.Port}";

        var source = CliRun.Start(new[] { "-s", "SSH1=0", "-v", "6" }, environment);
        int port = PortOf(await source.WaitForOutputLineAsync(l => l.StartsWith("Listening for SSH1", StringComparison.Ordinal)));

        await AssertEchoesAsync(port);
        Assert.Contains("CONNECT", proxy.Log);
        Assert.Equal(0, await source.StopAsync());
        Assert.DoesNotContain(ProxyPassword, source.Out.ToString() + source.Error.ToString());
        await destination.StopAsync();
    }

    [Fact]
    public async Task Lower_case_https_proxy_wins_over_HTTPS_PROXY()
    {
        await using var proxy = await TinyProxy.StartAsync();
        await using var local = await LocalServiceFixture.StartAsync("SSH1");
        var environment = local.Environment(local.Tunnel.SourceAccessToken);
        environment["https_proxy"] = proxy.Address.ToString();
        environment["HTTPS_PROXY"] = "http://127.0.0.1:1";

        var source = CliRun.Start(new[] { "-s", "SSH1=0" }, environment);
        await source.WaitForOutputLineAsync(l => l.StartsWith("Listening for SSH1", StringComparison.Ordinal));

        Assert.Contains("CONNECT", proxy.Log);
        Assert.Equal(0, await source.StopAsync());
    }

    private static int PortOf(string line) => int.Parse(line[(line.LastIndexOf(':') + 1)..]);

    private static async Task AssertEchoesAsync(int port)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, port);
        var stream = client.GetStream();
        byte[] sent = "hello through the tunnel"u8.ToArray();
        await stream.WriteAsync(sent);
        var received = new byte[sent.Length];
        await stream.ReadExactlyAsync(received).AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(sent, received);
    }
}
