using System.Diagnostics;
using AwsTunnel.Tests.Support;

namespace AwsTunnel.Tests.Cli;

/// <summary>SIGTERM stops a running `awstunnel` cleanly: resets sent, exit code 0, within 2 seconds.</summary>
public class SignalShutdownTests
{
    [Fact]
    public async Task Sigterm_resets_open_connections_and_exits_zero_within_two_seconds()
    {
        Assert.True(OperatingSystem.IsLinux() || OperatingSystem.IsMacOS(), "POSIX signals");
        await using var echo = new EchoServer();
        await using var harness = await TunnelHarness.StartAsync(new[] { "SSH1" });
        var destination = await harness.StartDestinationAsync($"SSH1=127.0.0.1:{echo.Port}");
        using var source = StartCli(harness, "-s", "SSH1=0");
        int port = await ReadListeningPortAsync(source);
        using var client = await TcpProbe.ConnectAsync(port);
        Assert.Equal("through the cli", await TcpProbe.EchoAsync(client, "through the cli"));
        await Eventually.TrueAsync(() => destination.Connections().Count == 1, "the destination's side of the connection");

        var clock = Stopwatch.StartNew();
        using (var kill = Process.Start("kill", $"-TERM {source.Id}"))
        {
            await kill.WaitForExitAsync();
        }

        await source.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(5));
        clock.Stop();
        Assert.Equal(0, source.ExitCode);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"shutdown took {clock.Elapsed}");
        Assert.True(await TcpProbe.ClosesWithinAsync(client, TimeSpan.FromSeconds(2)));
        await Eventually.TrueAsync(() => destination.Connections().Count == 0, "the reset to close the destination's connection");
    }

    private static Process StartCli(TunnelHarness harness, params string[] args)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "awstunnel.dll"));
        info.ArgumentList.Add("-e");
        info.ArgumentList.Add(harness.Service.Endpoint.ToString());
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        info.Environment["AWSIOT_TUNNEL_ACCESS_TOKEN"] = harness.Tunnel.SourceAccessToken;
        return Process.Start(info)!;
    }

    private static async Task<int> ReadListeningPortAsync(Process process)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (await process.StandardOutput.ReadLineAsync(timeout.Token) is { } line)
        {
            if (line.StartsWith("Listening for SSH1 on ", StringComparison.Ordinal))
            {
                return int.Parse(line[(line.LastIndexOf(':') + 1)..]);
            }
        }

        Assert.Fail("awstunnel ended before it listened: " + await process.StandardError.ReadToEndAsync());
        return 0;
    }
}
