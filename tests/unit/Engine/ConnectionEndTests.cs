using System.Net;
using System.Net.Sockets;
using AwsTunnel.Tests.Support;

namespace AwsTunnel.Tests.Engine;

/// <summary>
/// How a local client sees its connection end: RST (a read fails with a reset), after all the
/// data when the peer ended the connection, at once when the tunnel broke under it.
/// </summary>
public class ConnectionEndTests
{
    [Fact]
    public async Task A_target_that_sends_and_closes_gives_the_client_all_its_data_then_RST()
    {
        // The peer's end reaches the source as a CONNECTION_RESET, which cannot say "closed
        // normally": the client gets every byte, then a reset (never a FIN it could take as complete).
        using var target = new TcpListener(IPAddress.Loopback, 0);
        target.Start();
        var payload = new byte[3_000_000];
        Random.Shared.NextBytes(payload);
        var serving = Task.Run(async () =>
        {
            using var socket = await target.AcceptSocketAsync();
            await socket.SendAsync(payload, SocketFlags.None);
            socket.Shutdown(SocketShutdown.Send);
        });
        await using var harness = await TunnelHarness.StartAsync(new[] { "WEB" });
        await harness.StartDestinationAsync($"WEB=127.0.0.1:{((IPEndPoint)target.LocalEndpoint).Port}");
        // The client reads only once the reset has arrived: a stall limit no loaded machine reaches.
        var source = await harness.StartSourceAsync("WEB=0", TunnelHarness.FastSettings with { ConnectionStallTimeoutMs = 300_000 });

        // A small receive buffer, and a first pause, so most of the data is still queued in the
        // proxy when the reset arrives: it must all be written before the RST.
        using var client = new Socket(SocketType.Stream, ProtocolType.Tcp) { ReceiveBufferSize = 8192 };
        await client.ConnectAsync(IPAddress.Loopback, source.Ports["WEB"]);
        await serving.WaitAsync(TimeSpan.FromSeconds(30));
        await harness.Logs.WaitForLineAsync(l => l.Contains("the peer reset the connection"), "the source to get the reset", 30000);

        var received = new MemoryStream();
        var buffer = new byte[64 * 1024];
        using var guard = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var error = await Assert.ThrowsAsync<SocketException>(async () =>
        {
            int read;
            while ((read = await client.ReceiveAsync(buffer, SocketFlags.None, guard.Token)) > 0)
            {
                received.Write(buffer, 0, read);
            }
        });

        Assert.Equal(SocketError.ConnectionReset, error.SocketErrorCode);
        Assert.Equal(payload.Length, received.Length);
        Assert.Equal(payload, received.ToArray());
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
