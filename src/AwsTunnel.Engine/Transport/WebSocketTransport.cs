using System.Net.Sockets;

namespace AwsTunnel.Engine.Transport;

/// <summary>
/// How the TCP socket under a tunnel's WebSocket is set up, at either end (proxy or service).
/// </summary>
public static class WebSocketTransport
{
    /// <summary>
    /// The kernel send and receive buffer asked for by default (Linux doubles it for its own
    /// overhead). Every connection of a tunnel shares the WebSocket, and bytes in the kernel's
    /// buffers go out in order, whatever connection they came from: an interactive frame waits
    /// behind all of them. Left to autotuning, the buffers grow to megabytes under a bulk
    /// transfer (tens of milliseconds at loopback speed, seconds at the service's 800 KB/s cap);
    /// this size keeps the backlog in the proxy's own queue, where connections take turns, and
    /// still allows several MB/s over a 100 ms path. It costs throughput on loopback (B1).
    /// </summary>
    public const int DefaultSocketBufferBytes = 128 * 1024;

    /// <summary>
    /// TCP keep-alive probes, for runtimes that cannot time out unanswered WebSocket pings (.NET 8:
    /// a PowerShell 7.4 host, or the CLI compiled ahead of time for .NET 8): after
    /// <paramref name="period"/> without traffic, a probe every period; the kernel drops the
    /// connection after 3 unanswered ones, and the link ends as lost and reconnects.
    /// </summary>
    public static void EnableKeepAliveProbes(Socket socket, TimeSpan period)
    {
        int seconds = Math.Max(1, (int)Math.Ceiling(period.TotalSeconds));
        socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.KeepAlive, true);
        socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveTime, seconds);
        socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveInterval, seconds);
        socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveRetryCount, 3);
    }

    /// <summary>
    /// Sets no-delay and the buffer sizes (<paramref name="bufferBytes"/> 0: left to the
    /// operating system). Call before connecting or listening: the receive window scale is fixed then.
    /// </summary>
    public static void Configure(Socket socket, int bufferBytes)
    {
        socket.NoDelay = true;
        if (bufferBytes > 0)
        {
            socket.SendBufferSize = bufferBytes;
            socket.ReceiveBufferSize = bufferBytes;
        }
    }
}
