using System.Net;
using System.Net.Sockets;

namespace AwsTunnel.Cli;

/// <summary>The demo's destination application: a TCP server on loopback that echoes every byte back.</summary>
internal sealed class DemoEchoServer : IAsyncDisposable
{
    private readonly Socket _listener = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _acceptLoop;

    public DemoEchoServer()
    {
        _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _listener.Listen(16);
        _acceptLoop = AcceptLoopAsync();
    }

    public IPEndPoint EndPoint => (IPEndPoint)_listener.LocalEndPoint!;

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Dispose();
        await _acceptLoop;
        _stop.Dispose();
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptAsync(_stop.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }

            _ = EchoAsync(client, _stop.Token);
        }
    }

    private static async Task EchoAsync(Socket client, CancellationToken cancellationToken)
    {
        using (client)
        {
            var buffer = new byte[64 * 1024];
            try
            {
                int read;
                while ((read = await client.ReceiveAsync(buffer, cancellationToken)) > 0)
                {
                    await client.SendAsync(buffer.AsMemory(0, read), cancellationToken);
                }
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                // The tunnel reset the connection or the demo is over.
            }
        }
    }
}
