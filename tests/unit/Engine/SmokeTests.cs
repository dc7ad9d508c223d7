using System.Net.Sockets;
using AwsTunnel.Tests.Support;

namespace AwsTunnel.Tests.Engine;

public class SmokeTests
{
    [Fact]
    public async Task Bytes_sent_to_the_source_port_come_back_from_an_echo_target()
    {
        await using var echo = new EchoServer();
        await using var harness = await TunnelHarness.StartAsync(new[] { "SSH1" });
        await harness.StartDestinationAsync($"SSH1=127.0.0.1:{echo.Port}");
        var source = await harness.StartSourceAsync("SSH1=0");

        using var client = new TcpClient();
        await client.ConnectAsync("127.0.0.1", source.Ports["SSH1"]);
        var stream = client.GetStream();
        var sent = "hello through the tunnel"u8.ToArray();
        await stream.WriteAsync(sent);
        var received = new byte[sent.Length];
        await stream.ReadExactlyAsync(received).AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(sent, received);
    }
}
