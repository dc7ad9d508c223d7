using System.Net;
using System.Net.Sockets;
using AwsTunnel.Tests.Support;

namespace AwsTunnel.Tests.Engine;

/// <summary>
/// How a local client sees its connection end: FIN (a read returns 0) after everything when
/// the end is normal, RST (the read fails with a reset) when the tunnel broke under it.
/// </summary>
public class ConnectionEndTests
{
    [Fact]
    public async Task A_target_that_sends_and_closes_gives_the_client_all_its_data_then_FIN()
    {
        using var target = new TcpListener(IPAddress.Loopback, 0);
        target.Start();
        var payload = new byte[300_000];
        Random.Shared.NextBytes(payload);
        var serving = Task.Run(async () =>
        {
            using var socket = await target.AcceptSocketAsync();
            await socket.SendAsync(payload, SocketFlags.None);
            socket.Shutdown(SocketShutdown.Send);
            await Task.Delay(500);
        });
        await using var harness = await TunnelHarness.StartAsync(new[] { "WEB" });
        await harness.StartDestinationAsync($"WEB=127.0.0.1:{((IPEndPoint)target.LocalEndpoint).Port}");
        var source = await harness.StartSourceAsync("WEB=0");

        using var client = await TcpProbe.ConnectAsync(source.Ports["WEB"]);
        var received = new MemoryStream();
        var buffer = new byte[64 * 1024];
        using var guard = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        int read;
        while ((read = await client.ReceiveAsync(buffer, SocketFlags.None, guard.Token)) > 0)
        {
            received.Write(buffer, 0, read);
        }

        Assert.Equal(payload, received.ToArray());
        await serving;
    }

    [Fact]
    public async Task A_lost_websocket_resets_the_client_with_RST()
    {
        await using var echo = new EchoServer();
        await using var harness = await TunnelHarness.StartAsync(new[] { "SSH1" });
        await harness.StartDestinationAsync($"SSH1=127.0.0.1:{echo.Port}");
        var source = await harness.StartSourceAsync("SSH1=0");
        using var client = await TcpProbe.ConnectAsync(source.Ports["SSH1"]);
        Assert.Equal("before", await TcpProbe.EchoAsync(client, "before"));

        harness.Tunnel.DropConnections();

        using var guard = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var error = await Assert.ThrowsAsync<SocketException>(async () =>
        {
            var buffer = new byte[1024];
            while (await client.ReceiveAsync(buffer, SocketFlags.None, guard.Token) > 0)
            {
            }
        });
        Assert.Equal(SocketError.ConnectionReset, error.SocketErrorCode);
    }

    [Fact]
    public async Task A_client_reset_by_the_full_queue_policy_sees_RST()
    {
        await using var flood = new FloodServer();
        await using var harness = await TunnelHarness.StartAsync(new[] { "FLOOD" });
        var settings = TunnelHarness.FastSettings with { ConnectionBufferLimitBytes = 256 * 1024 };
        await harness.StartDestinationAsync($"FLOOD=127.0.0.1:{flood.Port}", settings);
        var source = await harness.StartSourceAsync("FLOOD=0", settings);
        using var client = new Socket(SocketType.Stream, ProtocolType.Tcp) { ReceiveBufferSize = 4096 };
        await client.ConnectAsync("127.0.0.1", source.Ports["FLOOD"]);

        await harness.Logs.WaitForLineAsync(l => l.Contains("bytes behind"), "the client to be reset", 30000);

        using var guard = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var error = await Assert.ThrowsAsync<SocketException>(async () =>
        {
            var buffer = new byte[64 * 1024];
            while (await client.ReceiveAsync(buffer, SocketFlags.None, guard.Token) > 0)
            {
            }
        });
        Assert.Equal(SocketError.ConnectionReset, error.SocketErrorCode);
    }
}
