using System.Net.Sockets;
using AwsTunnel.Engine.Protocol;
using AwsTunnel.Engine.Transport;
using AwsTunnel.Engine.Tunnel;
using AwsTunnel.Tests.Support;

namespace AwsTunnel.Tests.Engine;

/// <summary>Keep-alive pings detect a dead path to the service, and the session reconnects.</summary>
public class KeepAliveTests
{
    [Fact]
    public void Where_pings_cannot_time_out_tcp_probes_run_at_the_ping_period_and_give_up_after_three()
    {
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);

        WebSocketTransport.EnableKeepAliveProbes(socket, TimeSpan.FromMilliseconds(2500));

        Assert.NotEqual(0, (int)socket.GetSocketOption(SocketOptionLevel.Socket, SocketOptionName.KeepAlive)!);
        Assert.Equal(3, (int)socket.GetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveTime)!);
        Assert.Equal(3, (int)socket.GetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveInterval)!);
        Assert.Equal(3, (int)socket.GetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveRetryCount)!);
    }

    [Fact]
    public async Task A_frozen_path_to_the_service_is_detected_by_unanswered_pings_and_the_session_reconnects()
    {
        Assert.True(WebSocketConnector.DetectsDeadConnections, "the test runtime (.NET 10) supports keep-alive timeouts");
        await using var echo = new EchoServer();
        await using var harness = await TunnelHarness.StartAsync(new[] { "SSH1" });
        await using var relay = new FreezableRelay(harness.Service.Endpoint.Port);
        var pings = TunnelHarness.FastSettings with { WebSocketPingPeriodMs = 300 };
        await harness.StartDestinationAsync($"SSH1=127.0.0.1:{echo.Port}");
        var source = await harness.StartAsync(harness.Options(TunnelMode.Source, "SSH1=0", pings) with
        {
            ServiceUri = new Uri($"ws://127.0.0.1:{relay.Port}"),
            ClientToken = TunnelOptions.NewClientToken(),
        });

        relay.FreezeCurrent();

        await Eventually.TrueAsync(() => source.Reconnects >= 1 && source.State == TunnelState.Connected, "the source to notice and reconnect", 15000);
        using var socket = await TcpProbe.ConnectAsync(source.Ports["SSH1"]);
        Assert.Equal("alive again", await TcpProbe.EchoAsync(socket, "alive again"));
        await harness.Logs.WaitForLineAsync(l => l.Contains("stopped answering keep-alive pings"), "the log line");
    }
}
