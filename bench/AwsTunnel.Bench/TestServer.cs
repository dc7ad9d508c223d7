using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace AwsTunnel.Bench;

/// <summary>
/// The destinations' target, in the bench process. The first byte a client sends picks the mode:
/// <list type="bullet">
/// <item>'E' echo: everything after it is sent back until the client shuts down its side.</item>
/// <item>'I' interactive echo: the same, on a thread of its own with blocking calls, so a round
/// trip never queues in this process's thread pool behind the bench's own load (B8's hundred
/// writers and their echoes): the time measured is the tunnel's.</item>
/// <item>'S' sink: an 8-byte length and an 8-byte pattern offset follow; the sink reads that many
/// bytes, checks every one against <see cref="Pattern"/>, then answers one byte, 'K' (intact) or 'X'.
/// A length of <see cref="long.MaxValue"/> reads until the client closes.</item>
/// </list>
/// </summary>
internal sealed class TestServer : IAsyncDisposable
{
    public const byte Echo = (byte)'E';
    public const byte InteractiveEcho = (byte)'I';
    public const byte Sink = (byte)'S';
    public const int SinkHeaderSize = 17;

    private readonly Socket _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _acceptLoop;
    private int _activeEcho;
    private long _sinkBytes;

    public TestServer()
    {
        _listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _listener.Listen(4096);
        EndPoint = (IPEndPoint)_listener.LocalEndPoint!;
        _acceptLoop = AcceptLoopAsync();
    }

    public IPEndPoint EndPoint { get; }

    /// <summary>Echo connections open right now (a B3 connection counts once it reached the server).</summary>
    public int ActiveEcho => Volatile.Read(ref _activeEcho);

    /// <summary>Bytes the sinks have taken so far.</summary>
    public long SinkBytes => Interlocked.Read(ref _sinkBytes);

    public static byte[] SinkHeader(long length, long offset)
    {
        var header = new byte[SinkHeaderSize];
        header[0] = Sink;
        BinaryPrimitives.WriteInt64BigEndian(header.AsSpan(1), length);
        BinaryPrimitives.WriteInt64BigEndian(header.AsSpan(9), offset);
        return header;
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Dispose();
        try
        {
            await _acceptLoop.ConfigureAwait(false);
        }
        catch
        {
            // Stopping.
        }
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptAsync(_stop.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                if (_stop.IsCancellationRequested)
                {
                    return;
                }

                continue;
            }

            client.NoDelay = true;
            _ = ServeAsync(client);
        }
    }

    private async Task ServeAsync(Socket socket)
    {
        var token = _stop.Token;
        try
        {
            var mode = new byte[1];
            await Net.ReceiveExactlyAsync(socket, mode, token).ConfigureAwait(false);
            if (mode[0] == Echo)
            {
                await EchoAsync(socket, token).ConfigureAwait(false);
            }
            else if (mode[0] == InteractiveEcho)
            {
                await Task.Factory.StartNew(() => EchoOnOwnThread(socket), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default)
                    .ConfigureAwait(false);
            }
            else if (mode[0] == Sink)
            {
                await SinkAsync(socket, token).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException or OperationCanceledException or EndOfStreamException)
        {
            // The client went away; clients report their own failures.
        }
        finally
        {
            socket.Dispose();
        }
    }

    private async Task EchoAsync(Socket socket, CancellationToken token)
    {
        Interlocked.Increment(ref _activeEcho);
        try
        {
            var buffer = new byte[32 * 1024];
            while (true)
            {
                int n = await socket.ReceiveAsync(buffer, SocketFlags.None, token).ConfigureAwait(false);
                if (n == 0)
                {
                    break;
                }

                await Net.SendAllAsync(socket, buffer.AsMemory(0, n), token).ConfigureAwait(false);
            }

            socket.Shutdown(SocketShutdown.Send);
        }
        finally
        {
            Interlocked.Decrement(ref _activeEcho);
        }
    }

    private void EchoOnOwnThread(Socket socket)
    {
        Interlocked.Increment(ref _activeEcho);
        try
        {
            var buffer = new byte[32 * 1024];
            int n;
            while ((n = socket.Receive(buffer)) > 0)
            {
                int sent = 0;
                while (sent < n)
                {
                    sent += socket.Send(buffer, sent, n - sent, SocketFlags.None);
                }
            }

            socket.Shutdown(SocketShutdown.Send);
        }
        finally
        {
            Interlocked.Decrement(ref _activeEcho);
        }
    }

    private async Task SinkAsync(Socket socket, CancellationToken token)
    {
        var header = new byte[SinkHeaderSize - 1];
        await Net.ReceiveExactlyAsync(socket, header, token).ConfigureAwait(false);
        long length = BinaryPrimitives.ReadInt64BigEndian(header);
        long offset = BinaryPrimitives.ReadInt64BigEndian(header.AsSpan(8));
        var buffer = new byte[256 * 1024];
        long received = 0;
        bool intact = true;
        while (received < length)
        {
            int want = (int)Math.Min(buffer.Length, length - received);
            int n = await socket.ReceiveAsync(buffer.AsMemory(0, want), SocketFlags.None, token).ConfigureAwait(false);
            if (n == 0)
            {
                break;
            }

            intact &= Pattern.Matches(buffer.AsSpan(0, n), offset + received);
            received += n;
            Interlocked.Add(ref _sinkBytes, n);
        }

        if (length != long.MaxValue && received == length)
        {
            await Net.SendAllAsync(socket, new[] { intact ? (byte)'K' : (byte)'X' }, token).ConfigureAwait(false);
            socket.Shutdown(SocketShutdown.Send);
            // Wait for the client to close, so the answer is not cut by a reset.
            await socket.ReceiveAsync(buffer, SocketFlags.None, token).ConfigureAwait(false);
        }
    }
}
