using System.Net.Sockets;

namespace AwsTunnel.Tests.Support;

/// <summary>
/// A destination target that sends to every accepted connection as fast as it can: a fixed
/// number of bytes and then a normal close (FIN), or without end until the connection is reset.
/// </summary>
public sealed class FloodServer : IAsyncDisposable
{
    private readonly LoopbackAcceptor _acceptor;
    private readonly long? _bytesPerConnection;
    private int _ended;

    /// <param name="bytesPerConnection">Bytes to send before closing normally; null sends until the connection breaks (at most 60 s).</param>
    public FloodServer(long? bytesPerConnection = null)
    {
        _bytesPerConnection = bytesPerConnection;
        _acceptor = new LoopbackAcceptor(socket =>
        {
            _ = FloodAsync(socket);
            return Task.CompletedTask;
        }, backlog: 1024);
    }

    public int Port => _acceptor.Port;

    public int Accepted => _acceptor.Accepted;

    /// <summary>Connections whose sending has ended (sent everything, or reset by the tunnel).</summary>
    public int Ended => Volatile.Read(ref _ended);

    private async Task FloodAsync(Socket socket)
    {
        var chunk = new byte[64 * 1024];
        Random.Shared.NextBytes(chunk);
        using (socket)
        {
            try
            {
                using var bound = CancellationTokenSource.CreateLinkedTokenSource(_acceptor.Stopping);
                bound.CancelAfter(TimeSpan.FromSeconds(60));
                long sent = 0;
                while (_bytesPerConnection is not { } limit || sent < limit)
                {
                    int size = (int)Math.Min(chunk.Length, (_bytesPerConnection ?? long.MaxValue) - sent);
                    sent += await socket.SendAsync(chunk.AsMemory(0, size), SocketFlags.None, bound.Token);
                }

                socket.Shutdown(SocketShutdown.Send);
            }
            catch (Exception)
            {
                // Reset by the tunnel, or the test ended.
            }
            finally
            {
                Interlocked.Increment(ref _ended);
            }
        }
    }

    public ValueTask DisposeAsync()
    {
        _acceptor.Dispose();
        return ValueTask.CompletedTask;
    }
}
