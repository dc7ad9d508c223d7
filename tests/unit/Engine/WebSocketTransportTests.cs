using System.Net.Sockets;
using AwsTunnel.Engine.Transport;

namespace AwsTunnel.Tests.Engine;

/// <summary>The WebSocket's TCP socket gets small kernel buffers by default, or the operating system's sizing on request.</summary>
public class WebSocketTransportTests
{
    [Fact]
    public void A_buffer_size_is_applied_to_both_directions()
    {
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);

        WebSocketTransport.Configure(socket, 64 * 1024);

        Assert.True(socket.NoDelay);
        // Linux reports twice the size asked for (its bookkeeping overhead); other systems the size itself.
        Assert.InRange(socket.SendBufferSize, 64 * 1024, 2 * 64 * 1024);
        Assert.InRange(socket.ReceiveBufferSize, 64 * 1024, 2 * 64 * 1024);
    }

    [Fact]
    public void Zero_leaves_the_buffers_to_the_operating_system()
    {
        using var untouched = new Socket(SocketType.Stream, ProtocolType.Tcp);
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);

        WebSocketTransport.Configure(socket, 0);

        Assert.True(socket.NoDelay);
        Assert.Equal(untouched.SendBufferSize, socket.SendBufferSize);
        Assert.Equal(untouched.ReceiveBufferSize, socket.ReceiveBufferSize);
    }
}
