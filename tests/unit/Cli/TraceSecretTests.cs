using AwsTunnel.Tests.Support;

namespace AwsTunnel.Tests.Cli;

/// <summary>Even at -v 6 (trace), a whole proxy run prints no token.</summary>
public class TraceSecretTests
{
    [Fact]
    public async Task A_source_and_destination_at_trace_level_never_print_a_token()
    {
        await using var echo = new EchoServer();
        await using var local = await LocalServiceFixture.StartAsync("SSH1");
        string clientToken = Guid.NewGuid().ToString("D");
        var destination = CliRun.Start(new[] { "-v", "6", "-d", $"SSH1=127.0.0.1:{echo.Port}" }, local.Environment(local.Tunnel.DestinationAccessToken));
        await destination.WaitForOutputLineAsync(l => l.StartsWith("Forwarding SSH1", StringComparison.Ordinal));
        var source = CliRun.Start(new[] { "-v", "6", "-s", "SSH1=0", "-i", clientToken }, local.Environment(local.Tunnel.SourceAccessToken));
        string listening = await source.WaitForOutputLineAsync(l => l.StartsWith("Listening for SSH1", StringComparison.Ordinal));
        using (var client = await TcpProbe.ConnectAsync(int.Parse(listening[(listening.LastIndexOf(':') + 1)..])))
        {
            Assert.Equal("traced", await TcpProbe.EchoAsync(client, "traced"));
        }

        await local.Service.CloseTunnelAsync(local.Tunnel.TunnelId);
        await Task.WhenAll(source.Exit, destination.Exit).WaitAsync(TimeSpan.FromSeconds(15));

        var everything = string.Join("\n", source.Out, source.Error, destination.Out, destination.Error);
        Assert.Contains("[debug]", everything); // -v 6 logs everything; a healthy run has little at trace itself
        Assert.DoesNotContain(local.Tunnel.SourceAccessToken, everything);
        Assert.DoesNotContain(local.Tunnel.DestinationAccessToken, everything);
        Assert.DoesNotContain(clientToken, everything);
    }
}
