using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace AwsTunnel.Tests.Support;

/// <summary>
/// A TCP relay in front of a server that can freeze the connections it carries (nothing
/// passes, nothing closes), as a dead network path does, or cut them.
/// </summary>
public sealed class FreezableRelay : IAsyncDisposable
{
    private readonly LoopbackAcceptor _acceptor;
    private readonly int _targetPort;
    private readonly ConcurrentBag<Pair> _pairs = new();

    public FreezableRelay(int targetPort)
    {
        _targetPort = targetPort;
        _acceptor = new LoopbackAcceptor(RelayAsync);
    }

    public int Port => _acceptor.Port;

    /// <summary>Connections accepted so far.</summary>
    public int Accepted => Volatile.Read(ref _accepted);

    /// <summary>While set, new connections are accepted and then frozen, as a stuck load balancer does.</summary>
    public volatile bool FreezeNew;

    private int _accepted;

    /// <summary>Stops relaying on every current connection without closing it.</summary>
    public void FreezeCurrent()
    {
        foreach (var pair in _pairs)
        {
            pair.Frozen = true;
        }
    }

    /// <summary>Closes every current connection abruptly.</summary>
    public void CutCurrent()
    {
        foreach (var pair in _pairs)
        {
            pair.Client.Dispose();
            pair.Server.Dispose();
        }
    }

    // Connects to the target before the next accept, so the pairs are in accept order.
    private async Task RelayAsync(Socket client)
    {
        var server = new Socket(SocketType.Stream, ProtocolType.Tcp);
        try
        {
            await server.ConnectAsync(IPAddress.Loopback, _targetPort);
        }
        catch (SocketException)
        {
            client.Dispose();
            server.Dispose();
            return;
        }

        var pair = new Pair(client, server) { Frozen = FreezeNew };
        _pairs.Add(pair);
        Interlocked.Increment(ref _accepted);
        _ = PumpAsync(pair, client, server);
        _ = PumpAsync(pair, server, client);
    }

    private static async Task PumpAsync(Pair pair, Socket from, Socket to)
    {
        var buffer = new byte[64 * 1024];
        try
        {
            while (true)
            {
                int read = await from.ReceiveAsync(buffer, SocketFlags.None);
                if (read == 0)
                {
                    to.Shutdown(SocketShutdown.Send);
                    return;
                }

                while (pair.Frozen)
                {
                    await Task.Delay(50);
                }

                await to.SendAsync(buffer.AsMemory(0, read), SocketFlags.None);
            }
        }
        catch (Exception)
        {
            pair.Client.Dispose();
            pair.Server.Dispose();
        }
    }

    public ValueTask DisposeAsync()
    {
        _acceptor.Dispose();
        CutCurrent();
        return ValueTask.CompletedTask;
    }

    private sealed class Pair(Socket client, Socket server)
    {
        public Socket Client { get; } = client;
        public Socket Server { get; } = server;
        public volatile bool Frozen;
    }
}
