using System.Diagnostics;
using AwsTunnel.Engine.Tunnel;
using AwsTunnel.Tests.Support;

namespace AwsTunnel.Tests.Engine;

/// <summary>A destination `awstunnel` process killed outright and started again.</summary>
public class DestinationProcessRestartTests
{
    [Fact]
    public async Task A_killed_destination_process_that_restarts_with_its_client_token_serves_new_connections()
    {
        await using var echo = new EchoServer();
        await using var harness = await TunnelHarness.StartAsync(new[] { "SSH1" });
        string clientToken = TunnelOptions.NewClientToken();
        var source = await harness.StartSourceAsync("SSH1=0");

        using (var first = StartDestination(harness, echo.Port, clientToken))
        {
            await WaitForLineAsync(first, "Forwarding SSH1");
            using var before = await TcpProbe.ConnectAsync(source.Ports["SSH1"]);
            Assert.Equal("before the kill", await TcpProbe.EchoAsync(before, "before the kill"));

            first.Kill(entireProcessTree: true);
            await first.WaitForExitAsync();

            Assert.True(await TcpProbe.ClosesWithinAsync(before, TimeSpan.FromSeconds(10)), "the source's connection closes when its peer dies");
        }

        using var second = StartDestination(harness, echo.Port, clientToken);
        try
        {
            await WaitForLineAsync(second, "Forwarding SSH1");
            await Eventually.TrueAsync(() => harness.Tunnel.DestinationConnected, "the new destination to be attached");
            using var after = await TcpProbe.ConnectAsync(source.Ports["SSH1"]);
            Assert.Equal("after the restart", await TcpProbe.EchoAsync(after, "after the restart"));
        }
        finally
        {
            second.Kill(entireProcessTree: true);
        }
    }

    private static Process StartDestination(TunnelHarness harness, int targetPort, string clientToken)
    {
        string cli = Path.Combine(AppContext.BaseDirectory, "awstunnel.dll");
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { cli, "-e", harness.Service.Endpoint.ToString(), "-d", $"SSH1=127.0.0.1:{targetPort}", "-i", clientToken, "-v", "3" })
        {
            info.ArgumentList.Add(arg);
        }

        info.Environment["AWSIOT_TUNNEL_ACCESS_TOKEN"] = harness.Tunnel.DestinationAccessToken;
        return Process.Start(info)!;
    }

    private static async Task WaitForLineAsync(Process process, string text)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (await process.StandardOutput.ReadLineAsync(timeout.Token) is { } line)
        {
            if (line.Contains(text))
            {
                return;
            }
        }

        Assert.Fail($"The destination process ended before printing '{text}': {await process.StandardError.ReadToEndAsync()}");
    }
}
