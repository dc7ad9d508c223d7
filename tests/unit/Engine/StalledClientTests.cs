using AwsTunnel.Tests.Support;

namespace AwsTunnel.Tests.Engine;

/// <summary>A client that stops reading is reset; the rest of the tunnel keeps flowing.</summary>
public class StalledClientTests
{
    [Fact]
    public async Task A_client_that_stops_reading_is_reset_and_other_connections_keep_flowing()
    {
        await using var echo = new EchoServer();
        await using var flood = new FloodServer();
        await using var harness = await TunnelHarness.StartAsync(new[] { "FLOOD", "ECHO" });
        var settings = TunnelHarness.FastSettings with { ConnectionBufferLimitBytes = 256 * 1024, ConnectionStallTimeoutMs = 500 };
        await harness.StartDestinationAsync($"FLOOD=127.0.0.1:{flood.Port},ECHO=127.0.0.1:{echo.Port}", settings);
        var source = await harness.StartSourceAsync("FLOOD=0,ECHO=0", settings);

        using var stalled = await TcpProbe.ConnectAsync(source.Ports["FLOOD"]);
        stalled.ReceiveBufferSize = 4096;
        using var interactive = await TcpProbe.ConnectAsync(source.Ports["ECHO"]);

        await harness.Logs.WaitForLineAsync(l => l.Contains("FLOOD") && l.Contains("bytes behind"), "the stalled client to be reset", 20000);
        for (int i = 0; i < 20; i++)
        {
            Assert.Equal($"ping {i}", await TcpProbe.EchoAsync(interactive, $"ping {i}"));
        }

        Assert.DoesNotContain(source.Connections(), c => c.ServiceId == "FLOOD");
    }
}
