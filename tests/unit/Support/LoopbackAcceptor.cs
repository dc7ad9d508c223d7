using System.Net;
using System.Net.Sockets;

namespace AwsTunnel.Tests.Support;

/// <summary>
/// The accept loop the test servers share: a listener on a free loopback port that hands each
/// accepted socket to the server's handler, one after another, until disposed. The handler owns
/// the socket; it starts its work and returns, or finishes what must happen before the next accept.
/// </summary>
public sealed class LoopbackAcceptor : IDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly Func<Socket, Task> _onAccepted;
    private int _accepted;

    /// <param name="onAccepted">Takes each accepted socket.</param>
    /// <param name="backlog">The listen backlog; null for the system's default.</param>
    public LoopbackAcceptor(Func<Socket, Task> onAccepted, int? backlog = null)
    {
        _onAccepted = onAccepted;
        if (backlog is { } length)
        {
            _listener.Start(length);
        }
        else
        {
            _listener.Start();
        }

        _ = AcceptLoopAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>How many connections were accepted so far.</summary>
    public int Accepted => Volatile.Read(ref _accepted);

    /// <summary>Cancelled when the acceptor is disposed: the servers' work ends with it.</summary>
    public CancellationToken Stopping => _stop.Token;

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await _listener.AcceptSocketAsync(_stop.Token);
            }
            catch (Exception)
            {
                return;
            }

            Interlocked.Increment(ref _accepted);
            await _onAccepted(socket);
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
    }
}
