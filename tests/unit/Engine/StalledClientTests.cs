using System.Net;
using System.Net.Sockets;
using AwsTunnel.Tests.Support;

namespace AwsTunnel.Tests.Engine;

/// <summary>A client that stops reading is reset; the rest of the tunnel keeps flowing.</summary>
public class StalledClientTests
{
    [Fact]
    public async Task A_client_that_stops_reading_is_reset_and_other_connections_keep_flowing()
    {
        await using var echo = new EchoServer();
        using var flood = new TcpListener(IPAddress.Loopback, 0);
        flood.Start();
        _ = FloodEveryConnectionAsync(flood);
        await using var harness = await TunnelHarness.StartAsync(new[] { "FLOOD", "ECHO" });
        var settings = TunnelHarness.FastSettings with { ConnectionBufferLimitBytes = 256 * 1024, ConnectionStallTimeoutMs = 500 };
        await harness.StartDestinationAsync($"FLOOD=127.0.0.1:{((IPEndPoint)flood.LocalEndpoint).Port},ECHO=127.0.0.1:{echo.Port}", settings);
        var source = await harness.StartSourceAsync("FLOOD=0,ECHO=0", settings);

        using var stalled = await TcpProbe.ConnectAsync(source.Ports["FLOOD"]);
        stalled.ReceiveBufferSize = 4096;
        using var interactive = await TcpProbe.ConnectAsync(source.Ports["ECHO"]);

        await Eventually.TrueAsync(() => harness.Logs.Lines.Any(l => l.Contains("FLOOD") && l.Contains("bytes behind")), "the stalled client to be reset", 20000);
        for (int i = 0; i < 20; i++)
        {
            Assert.Equal($"ping {i}", await TcpProbe.EchoAsync(interactive, $"ping {i}"));
        }

        Assert.DoesNotContain(source.Connections(), c => c.ServiceId == "FLOOD");
    }

    private static async Task FloodEveryConnectionAsync(TcpListener listener)
    {
        var chunk = new byte[64 * 1024];
        while (true)
        {
            Socket socket;
            try
            {
                socket = await listener.AcceptSocketAsync();
            }
            catch (Exception)
            {
                return;
            }

            _ = Task.Run(async () =>
            {
                using (socket)
                {
                    try
                    {
                        using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(30));
                        while (!bound.IsCancellationRequested)
                        {
                            await socket.SendAsync(chunk, SocketFlags.None, bound.Token);
                        }
                    }
                    catch (Exception)
                    {
                        // Reset by the tunnel, as expected.
                    }
                }
            });
        }
    }
}
