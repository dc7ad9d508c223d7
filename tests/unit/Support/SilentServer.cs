using System.Net;
using System.Net.Sockets;

namespace AwsTunnel.Tests.Support;

/// <summary>
/// A TCP server that accepts connections and never answers, as a stuck load balancer does: an
/// upgrade request sent to it waits forever. Loopback only; disposing closes every connection.
/// </summary>
public sealed class SilentServer : IDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly List<Socket> _held = new();

    public SilentServer()
    {
        _listener.Start();
        _ = HoldAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public void Dispose()
    {
        _listener.Stop();
        lock (_held)
        {
            _held.ForEach(s => s.Dispose());
        }
    }

    private async Task HoldAsync()
    {
        try
        {
            while (true)
            {
                var socket = await _listener.AcceptSocketAsync();
                lock (_held)
                {
                    _held.Add(socket);
                }
            }
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            // Stopped.
        }
    }
}
