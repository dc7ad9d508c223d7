using System.Buffers;
using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;
using AwsTunnel.Engine.Protocol;
using Google.Protobuf;
using Microsoft.Extensions.Logging;

namespace AwsTunnel.Engine.Tunnel;

/// <summary>
/// Relays one local TCP connection over the tunnel, both ways: socket reads become DATA
/// messages; received payloads are queued (bounded) and written to the socket in order.
/// Whoever ends the connection first wins: a local end is reported to the owner (which
/// sends the reset), a remote end is not echoed back. Received data is flushed to the
/// socket before it closes.
/// </summary>
internal sealed class LocalConnection
{
    private readonly Channel<Received> _toSocket = Channel.CreateUnbounded<Received>(
        new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
    private readonly CancellationTokenSource _readStop = new();
    private readonly TaskCompletionSource _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ITunnelSender _sender;
    private readonly Action<LocalConnection, string> _onLocalEnd;
    private readonly ILogger _logger;
    private readonly int _readSize;
    private const int MaxFramesInFlight = 4;
    private readonly SemaphoreSlim _inFlight = new(MaxFramesInFlight, MaxFramesInFlight);
    private readonly SendBudget _sendBudget;
    private readonly Action _releaseInFlight;
    private readonly long _bufferLimit;
    private readonly TimeSpan _stallTimeout;
    private TaskCompletionSource? _drainWaiter;
    private long _queuedBytes;
    private long _bytesFromTunnel;
    private long _bytesToTunnel;
    private int _ending;
    private Socket? _socket;

    public LocalConnection(
        ConnectionKey key, string wireServiceId, bool wireConnectionId, ITunnelSender sender, SendBudget sendBudget, Action<LocalConnection, string> onLocalEnd,
        int readSize, long bufferLimit, TimeSpan stallTimeout, ILogger logger)
    {
        Key = key;
        WireServiceId = wireServiceId;
        WireConnectionId = wireConnectionId ? key.ConnectionId : 0;
        _sender = sender;
        _onLocalEnd = onLocalEnd;
        _readSize = Math.Clamp(readSize, 1, ProtocolLimits.MaxPayloadSize);
        _bufferLimit = bufferLimit;
        _stallTimeout = stallTimeout;
        _sendBudget = sendBudget;
        _releaseInFlight = () =>
        {
            _sendBudget.Release();
            _inFlight.Release();
        };
        _logger = logger;
        Started = DateTimeOffset.Now;
    }

    public ConnectionKey Key { get; }

    /// <summary>The service id put on sent messages: "" in V1's wire form.</summary>
    public string WireServiceId { get; }

    /// <summary>The connection id put on sent messages: 0 for a V1/V2 stream.</summary>
    public uint WireConnectionId { get; }

    public DateTimeOffset Started { get; }

    public ConnectionState State { get; private set; } = ConnectionState.Connecting;

    /// <summary>Completes once the socket is closed and both loops have ended.</summary>
    public Task Closed => _closed.Task;

    public ConnectionInfo Snapshot() => new(
        Key.ServiceId, Key.StreamId, Key.ConnectionId,
        SafeEndPoint(s => s.LocalEndPoint), SafeEndPoint(s => s.RemoteEndPoint),
        Interlocked.Read(ref _bytesFromTunnel), Interlocked.Read(ref _bytesToTunnel), Started, State);

    /// <summary>
    /// Starts relaying on an accepted or connected socket. False (and the socket closed) when
    /// the connection was already ended by the tunnel while it was being set up.
    /// </summary>
    public bool Attach(Socket socket)
    {
        if (Volatile.Read(ref _ending) != 0)
        {
            socket.Dispose();
            Finish();
            return false;
        }

        socket.NoDelay = true;
        _socket = socket;
        State = ConnectionState.Open;
        _ = RunAsync(socket);
        return true;
    }

    /// <summary>Destination: the target could not be reached.</summary>
    public void FailToAttach(string reason)
    {
        EndLocally(reason);
        Finish();
    }

    /// <summary>
    /// Queues a payload received from the tunnel for the socket. Waits (applying backpressure
    /// to the tunnel) while more than the buffer limit is queued. <paramref name="rentedPayload"/>,
    /// the pooled buffer the payload lives in (if any), goes back to the pool once it is written or dropped.
    /// </summary>
    public ValueTask DeliverAsync(ReadOnlyMemory<byte> payload, byte[]? rentedPayload, CancellationToken cancellationToken)
    {
        if (payload.IsEmpty || Volatile.Read(ref _ending) != 0)
        {
            PooledPayload.Return(rentedPayload);
            return ValueTask.CompletedTask;
        }

        long queued = Interlocked.Add(ref _queuedBytes, payload.Length);
        if (!_toSocket.Writer.TryWrite(new Received(payload, rentedPayload)))
        {
            Interlocked.Add(ref _queuedBytes, -payload.Length);
            PooledPayload.Return(rentedPayload);
            return ValueTask.CompletedTask;
        }

        return queued > _bufferLimit ? WaitForDrainAsync(cancellationToken) : ValueTask.CompletedTask;
    }

    /// <summary>The tunnel ended this connection (reset, replaced stream, lost WebSocket): flush and close; send nothing back.</summary>
    public void CloseFromTunnel(string reason)
    {
        if (Interlocked.Exchange(ref _ending, 1) != 0)
        {
            return;
        }

        _logger.LogDebug("Closing {Key}: {Reason}", Key, reason);
        State = ConnectionState.Closing;
        _readStop.Cancel();
        _toSocket.Writer.TryComplete();
        if (_socket is null)
        {
            Finish();
        }
    }

    private async ValueTask WaitForDrainAsync(CancellationToken cancellationToken)
    {
        // Wait while more than the limit is queued. Every write to the socket counts as progress
        // and restarts the stall clock: a slow reader is waited for, only one that takes nothing
        // for the whole stall timeout is reset.
        while (Interlocked.Read(ref _queuedBytes) > _bufferLimit && Volatile.Read(ref _ending) == 0)
        {
            var progress = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            Interlocked.Exchange(ref _drainWaiter, progress);
            if (Interlocked.Read(ref _queuedBytes) <= _bufferLimit)
            {
                break;
            }

            try
            {
                await progress.Task.WaitAsync(_stallTimeout, cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                EndLocally($"the local peer stopped reading ({Interlocked.Read(ref _queuedBytes)} bytes waited over {_stallTimeout.TotalMilliseconds:0} ms)");
                _socket?.Dispose();
                return;
            }
        }
    }

    private async Task RunAsync(Socket socket)
    {
        var reading = ReadLoopAsync(socket);
        var writing = WriteLoopAsync(socket);
        await Task.WhenAll(reading, writing).ConfigureAwait(false);
        Finish();
    }

    private async Task ReadLoopAsync(Socket socket)
    {
        string reason = "the local peer closed the connection";
        try
        {
            var token = _readStop.Token;
            while (true)
            {
                // Wait for data with a zero-byte read first, so an idle connection holds no buffer.
                await socket.ReceiveAsync(Memory<byte>.Empty, SocketFlags.None, token).ConfigureAwait(false);

                // At most a few frames of this connection wait for the WebSocket at a time, so one
                // busy connection cannot fill the shared send queue ahead of the others; and the
                // tunnel's budget is shared first come, first served, so connections take turns
                // and the buffers waiting for the WebSocket stay bounded however many connections there are.
                await _inFlight.WaitAsync(token).ConfigureAwait(false);
                try
                {
                    await _sendBudget.WaitAsync(token).ConfigureAwait(false);
                }
                catch
                {
                    _inFlight.Release();
                    throw;
                }

                // A pooled buffer per read: its ownership passes with the DATA message and it comes
                // back to the pool once the frame is encoded, so the payload is never copied into a new array.
                byte[] buffer = ArrayPool<byte>.Shared.Rent(_readSize);
                int read;
                try
                {
                    read = await socket.ReceiveAsync(buffer.AsMemory(0, _readSize), SocketFlags.None, token).ConfigureAwait(false);
                }
                catch
                {
                    PooledPayload.Return(buffer);
                    _releaseInFlight();
                    throw;
                }

                if (read == 0)
                {
                    PooledPayload.Return(buffer);
                    _releaseInFlight();
                    break;
                }

                var payload = UnsafeByteOperations.UnsafeWrap(buffer.AsMemory(0, read));
                await _sender.SendPooledAsync(Messages.Data(Key.StreamId, WireServiceId, WireConnectionId, payload), buffer, _releaseInFlight, token).ConfigureAwait(false);
                Interlocked.Add(ref _bytesToTunnel, read);
            }
        }
        catch (OperationCanceledException)
        {
            return;
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException or ChannelClosedException)
        {
            reason = $"local socket error: {ex.Message}";
        }

        EndLocally(reason);
    }

    private async Task WriteLoopAsync(Socket socket)
    {
        var reader = _toSocket.Reader;
        try
        {
            while (await reader.WaitToReadAsync().ConfigureAwait(false))
            {
                while (reader.TryRead(out var chunk))
                {
                    try
                    {
                        await socket.SendAsync(chunk.Payload, SocketFlags.None).ConfigureAwait(false);
                    }
                    finally
                    {
                        PooledPayload.Return(chunk.RentedBuffer);
                    }

                    Interlocked.Add(ref _bytesFromTunnel, chunk.Payload.Length);
                    Interlocked.Add(ref _queuedBytes, -chunk.Payload.Length);
                    Interlocked.Exchange(ref _drainWaiter, null)?.TrySetResult();
                }
            }

            socket.Shutdown(SocketShutdown.Send);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            EndLocally($"writing to the local socket failed: {ex.Message}");
        }
        finally
        {
            // Whatever was not written (the socket failed) goes back to the pool.
            _toSocket.Writer.TryComplete();
            DropQueued();

            Interlocked.Exchange(ref _drainWaiter, null)?.TrySetResult();
        }
    }

    private void EndLocally(string reason)
    {
        if (Interlocked.Exchange(ref _ending, 1) != 0)
        {
            return;
        }

        State = ConnectionState.Closing;
        _logger.LogDebug("{Key} ended locally: {Reason}", Key, reason);
        _readStop.Cancel();
        _toSocket.Writer.TryComplete();
        _onLocalEnd(this, reason);
    }

    private void Finish()
    {
        State = ConnectionState.Closed;

        try
        {
            _socket?.Dispose();
        }
        catch (ObjectDisposedException)
        {
        }

        Interlocked.Exchange(ref _drainWaiter, null)?.TrySetResult();
        _closed.TrySetResult();
    }

    /// <summary>
    /// Returns the buffers of payloads that will never be written. Only the write loop reads the
    /// queue (a single reader): payloads of a connection that never got a socket are left to the
    /// garbage collector rather than risk a buffer going back to the pool twice.
    /// </summary>
    private void DropQueued()
    {
        while (_toSocket.Reader.TryRead(out var dropped))
        {
            PooledPayload.Return(dropped.RentedBuffer);
        }
    }

    private EndPoint? SafeEndPoint(Func<Socket, EndPoint?> get)
    {
        try
        {
            return _socket is { } s ? get(s) : null;
        }
        catch (ObjectDisposedException)
        {
            return null;
        }
    }

    /// <summary>A payload from the tunnel waiting for the socket, and the pooled buffer it lives in.</summary>
    private readonly record struct Received(ReadOnlyMemory<byte> Payload, byte[]? RentedBuffer);
}
