using System.Net;
using System.Net.Sockets;
using AwsTunnel.Tests.Support;

namespace AwsTunnel.Tests.Cli;

/// <summary>The proxy run from the command line against a local tunneling service: lines printed and exit codes.</summary>
public class ProxyRunTests
{
    [Fact]
    public async Task A_wrong_access_token_exits_3_with_one_error_line()
    {
        await using var local = await LocalServiceFixture.StartAsync("SSH1");

        var run = await CliRun.CompleteAsync(new[] { "-s", "SSH1=0" }, local.Environment("wrong-token-0123456789"));

        Assert.Equal(3, run.ExitCode);
        var line = Assert.Single(run.ErrorLines);
        Assert.Contains("401", line);
        Assert.DoesNotContain("wrong-token-0123456789", run.Error.ToString());
    }

    [Fact]
    public async Task A_source_prints_one_listening_line_per_service_for_scripts()
    {
        await using var local = await LocalServiceFixture.StartAsync("SSH1", "WEB");
        var run = CliRun.Start(new[] { "-m", "source", "-b", "127.0.0.1" }, local.Environment(local.Tunnel.SourceAccessToken));

        string ssh = await run.WaitForOutputLineAsync(l => l.StartsWith("Listening for SSH1 on 127.0.0.1:", StringComparison.Ordinal));
        string web = await run.WaitForOutputLineAsync(l => l.StartsWith("Listening for WEB on 127.0.0.1:", StringComparison.Ordinal));

        Assert.NotEqual(PortOf(ssh), PortOf(web));
        await run.StopAsync();
    }

    [Fact]
    public async Task A_stop_signal_ends_a_running_source_with_exit_0()
    {
        await using var local = await LocalServiceFixture.StartAsync("SSH1");
        var run = CliRun.Start(new[] { "-s", "SSH1=0" }, local.Environment(local.Tunnel.SourceAccessToken));
        await run.WaitForOutputLineAsync(l => l.StartsWith("Listening for SSH1", StringComparison.Ordinal));

        int exit = await run.StopAsync();

        Assert.Equal(0, exit);
        Assert.Empty(run.ErrorLines);
    }

    [Fact]
    public async Task Closing_the_tunnel_ends_the_proxy_with_exit_0()
    {
        await using var local = await LocalServiceFixture.StartAsync("SSH1");
        var run = CliRun.Start(new[] { "-s", "SSH1=0" }, local.Environment(local.Tunnel.SourceAccessToken));
        await run.WaitForOutputLineAsync(l => l.StartsWith("Listening for SSH1", StringComparison.Ordinal));

        await local.Service.CloseTunnelAsync(local.Tunnel.TunnelId);

        Assert.Equal(0, await run.Exit.WaitAsync(TimeSpan.FromSeconds(15)));
    }

    [Fact]
    public async Task A_source_and_a_destination_started_from_the_command_line_carry_data()
    {
        await using var local = await LocalServiceFixture.StartAsync("SSH1");
        await using var echo = new EchoServer();
        var destination = CliRun.Start(new[] { "-d", $"SSH1=127.0.0.1:{echo.Port}" }, local.Environment(local.Tunnel.DestinationAccessToken));
        await destination.WaitForOutputLineAsync(l => l == $"Forwarding SSH1 to 127.0.0.1:{echo.Port}");
        var source = CliRun.Start(new[] { "-s", "SSH1=0" }, local.Environment(local.Tunnel.SourceAccessToken));
        int port = PortOf(await source.WaitForOutputLineAsync(l => l.StartsWith("Listening for SSH1", StringComparison.Ordinal)));

        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, port);
        var stream = client.GetStream();
        byte[] sent = "hello through the tunnel"u8.ToArray();
        await stream.WriteAsync(sent);
        var received = new byte[sent.Length];
        await stream.ReadExactlyAsync(received).AsTask().WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(sent, received);
        Assert.Equal(0, await source.StopAsync());
        Assert.Equal(0, await destination.StopAsync());
    }

    [Fact]
    public async Task A_mapping_for_a_service_the_tunnel_lacks_exits_4()
    {
        await using var local = await LocalServiceFixture.StartAsync("SSH1");

        var run = await CliRun.CompleteAsync(new[] { "-s", "WEB=0" }, local.Environment(local.Tunnel.SourceAccessToken));

        Assert.Equal(4, run.ExitCode);
        Assert.Contains("WEB", Assert.Single(run.ErrorLines));
    }

    [Fact]
    public async Task A_source_port_already_in_use_exits_5()
    {
        await using var local = await LocalServiceFixture.StartAsync("SSH1");
        using var occupied = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        occupied.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        occupied.Listen();
        int port = ((IPEndPoint)occupied.LocalEndPoint!).Port;

        var run = await CliRun.CompleteAsync(new[] { "-s", $"SSH1={port}", "-b", "127.0.0.1" }, local.Environment(local.Tunnel.SourceAccessToken));

        Assert.Equal(5, run.ExitCode);
        Assert.Contains(port.ToString(), Assert.Single(run.ErrorLines));
    }

    [Fact]
    public async Task A_proxy_replaced_by_another_with_the_same_tokens_exits_7()
    {
        await using var local = await LocalServiceFixture.StartAsync("SSH1");
        string[] args = { "-s", "SSH1=0", "-i", Guid.NewGuid().ToString() };
        var first = CliRun.Start(args, local.Environment(local.Tunnel.SourceAccessToken));
        await first.WaitForOutputLineAsync(l => l.StartsWith("Listening for SSH1", StringComparison.Ordinal));

        var second = CliRun.Start(args, local.Environment(local.Tunnel.SourceAccessToken));

        Assert.Equal(7, await first.Exit.WaitAsync(TimeSpan.FromSeconds(15)));
        Assert.Single(first.ErrorLines);
        await second.StopAsync();
    }

    private static int PortOf(string line) => int.Parse(line[(line.LastIndexOf(':') + 1)..]);
}
