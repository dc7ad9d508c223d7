using System.Net.Sockets;

namespace AwsTunnel.Tests.Support;

/// <summary>A TCP server on loopback that echoes every byte back, per connection.</summary>
public sealed class EchoServer : IAsyncDisposable
{
    private readonly LoopbackAcceptor _acceptor;

    public EchoServer()
    {
        _acceptor = new LoopbackAcceptor(socket =>
        {
            _ = EchoAsync(socket);
            return Task.CompletedTask;
        });
    }

    public int Port => _acceptor.Port;

    /// <summary>How many connections were accepted so far.</summary>
    public int Accepted => _acceptor.Accepted;

    private static async Task EchoAsync(Socket socket)
    {
        using (socket)
        {
            var buffer = new byte[64 * 1024];
            try
            {
                int read;
                while ((read = await socket.ReceiveAsync(buffer, SocketFlags.None)) > 0)
                {
                    await socket.SendAsync(buffer.AsMemory(0, read), SocketFlags.None);
                }

                socket.Shutdown(SocketShutdown.Send);
            }
            catch (Exception)
            {
                // The peer reset the connection; nothing to echo.
            }
        }
    }

    public ValueTask DisposeAsync()
    {
        _acceptor.Dispose();
        return ValueTask.CompletedTask;
    }
}
