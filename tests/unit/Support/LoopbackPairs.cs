using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;

namespace AwsTunnel.Tests.Support;

/// <summary>Two connected ends on loopback, for tests that drive one end and watch the other.</summary>
internal static class LoopbackPairs
{
    /// <summary>A connected TCP socket pair.</summary>
    public static async Task<(Socket Accepted, Socket Connected)> SocketPairAsync()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        var connecting = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        var accepting = listener.AcceptAsync();
        await connecting.ConnectAsync(listener.LocalEndPoint!);
        return (await accepting, connecting);
    }

    /// <summary>A WebSocket pair over a TCP pair, without a handshake or keep-alive.</summary>
    public static async Task<(WebSocket Client, WebSocket Server)> WebSocketPairAsync()
    {
        var (accepted, connected) = await SocketPairAsync();
        var client = WebSocket.CreateFromStream(new NetworkStream(connected, ownsSocket: true), isServer: false, subProtocol: null, keepAliveInterval: Timeout.InfiniteTimeSpan);
        var server = WebSocket.CreateFromStream(new NetworkStream(accepted, ownsSocket: true), isServer: true, subProtocol: null, keepAliveInterval: Timeout.InfiniteTimeSpan);
        return (client, server);
    }
}
