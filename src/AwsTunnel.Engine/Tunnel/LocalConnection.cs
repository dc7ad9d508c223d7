using System.Buffers;
using System.Net;
using System.Net.Sockets;
using AwsTunnel.Engine.Protocol;
using AwsTunnel.Engine.Transport;
using Google.Protobuf;
using Microsoft.Extensions.Logging;

namespace AwsTunnel.Engine.Tunnel;

/// <summary>
/// Relays one local TCP connection over the tunnel, both ways. Socket to tunnel
/// (<see cref="ReadLoopAsync"/>): wait until the socket has data, wait for this connection's turn
/// on the link, read one frame's worth into a pooled buffer, post it as DATA. Tunnel to socket:
/// the link's receive loop hands payloads to <see cref="Deliver"/>, which never waits: when
/// nothing is being written, it starts the send itself (no thread hand-over for a socket that
/// keeps up); a send the socket does not finish at once, and whatever is delivered meanwhile,
/// is left to <see cref="WriteLoopAsync"/>, which writes the queue to the socket in order.
/// <para>
/// Ends: when the local client closed, what is queued is written and the connection closes with
/// FIN. When the peer ended it (its reset: the protocol has no other way to end a connection,
/// so it cannot say whether the far end closed normally), what is queued is written, the proxy
/// waits until the client's kernel has acknowledged all of it, and then closes with RST
/// (<see cref="CloseFromTunnel"/>): the client reads everything, then sees the reset. A broken
/// end (link lost, policy reset, socket error, a flush that makes no progress) closes at once
/// with RST (linger 0). Whoever ends the connection first wins: a local end is reported to the
/// owner (which tells the peer), an end from the tunnel is not echoed back.
/// </para>
/// </summary>
internal sealed class LocalConnection
{
    private readonly object _gate = new();
    private readonly Queue<PooledPayload> _toSocket = new();
    private readonly CancellationTokenSource _readStop = new();
    private readonly TaskCompletionSource _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TunnelLink _link;
    // This connection's share of the link's send turns: a bulk reader cannot take them all.
    private readonly TurnShare _turnShare = new();
    private readonly ReceiveBudget _budget;
    private readonly ConnectionLimits _limits;
    private readonly Action<LocalConnection, string> _onLocalEnd;
    private readonly ILogger _logger;
    private TaskCompletionSource? _writeWaiter;
    // True while one party writes to the socket: Deliver's direct send or the write loop.
    private bool _writing;
    // A direct send the socket did not finish at once, for the write loop to await before anything queued.
    private (ValueTask<int> Send, PooledPayload Payload)? _unfinished;
    private long _queuedBytes;
    private long _lastProgress;
    private long _bytesFromTunnel;
    private long _bytesToTunnel;
    private int _ending;
    private int _aborted;
    private int _finished;
    // Set with _ending by CloseFromTunnel (under _gate): the write loop ends with RST once the client has everything.
    private bool _resetAfterWrite;
    private int _state = (int)ConnectionState.Connecting;
    private Socket? _socket;

    public LocalConnection(
        ConnectionKey key, string wireServiceId, bool wireConnectionId, TunnelLink link, ReceiveBudget budget, ConnectionLimits limits,
        Action<LocalConnection, string> onLocalEnd, ILogger logger)
    {
        Key = key;
        WireServiceId = wireServiceId;
        WireConnectionId = wireConnectionId ? key.ConnectionId : 0;
        _link = link;
        _budget = budget;
        _limits = limits;
        _onLocalEnd = onLocalEnd;
        _logger = logger;
        Started = DateTimeOffset.Now;
    }

    public ConnectionKey Key { get; }

    /// <summary>The service id put on sent messages: "" in V1's wire form.</summary>
    public string WireServiceId { get; }

    /// <summary>The connection id put on sent messages: 0 for a V1/V2 stream.</summary>
    public uint WireConnectionId { get; }

    public DateTimeOffset Started { get; }

    public ConnectionState State => (ConnectionState)Volatile.Read(ref _state);

    /// <summary>Completes once the socket is closed, both loops have ended and every queued buffer is back in the pool.</summary>
    public Task Closed => _closed.Task;

    /// <summary>Bytes received from the tunnel and not yet taken by the socket (the write in progress included).</summary>
    public long QueuedBytes
    {
        get
        {
            lock (_gate)
            {
                return _queuedBytes;
            }
        }
    }

    /// <summary>True once the connection was ended by either side (it may still be flushing).</summary>
    public bool IsEnding => Volatile.Read(ref _ending) != 0;

    public ConnectionInfo Snapshot() => new(
        Key.ServiceId, Key.StreamId, Key.ConnectionId,
        SafeEndPoint(s => s.LocalEndPoint), SafeEndPoint(s => s.RemoteEndPoint),
        Interlocked.Read(ref _bytesFromTunnel), Interlocked.Read(ref _bytesToTunnel), Started, State);

    /// <summary>
    /// Starts relaying on an accepted or connected socket and returns the task that runs both
    /// loops. Null (and the socket closed) when the connection was already ended by the tunnel
    /// while it was being set up.
    /// </summary>
    public Task? Attach(Socket socket)
    {
        lock (_gate)
        {
            if (Volatile.Read(ref _ending) == 0)
            {
                socket.NoDelay = true;
                _socket = socket;
                _lastProgress = Environment.TickCount64;
                SetState(ConnectionState.Open);
            }
        }

        if (_socket is null)
        {
            CloseWithReset(socket);
            Finish();
            return null;
        }

        return RunAsync(socket);
    }

    /// <summary>Destination: the target could not be reached.</summary>
    public void FailToAttach(string reason)
    {
        EndLocally(reason, broken: true);
        Finish();
    }

    /// <summary>
    /// Hands a payload received from the tunnel to the socket, without waiting. When taken
    /// (<see cref="DeliveryOutcome.Queued"/>), the connection owns <paramref name="payload"/> from
    /// here: written at once if the socket takes it all, else queued. Otherwise the caller still
    /// owns it, applies the policy for a full queue and disposes it.
    /// </summary>
    public DeliveryOutcome Deliver(PooledPayload payload)
    {
        Socket? direct = null;
        lock (_gate)
        {
            if (Volatile.Read(ref _ending) != 0)
            {
                return DeliveryOutcome.Dropped;
            }

            if (_queuedBytes + payload.Length > _limits.BufferLimitBytes)
            {
                return DeliveryOutcome.ConnectionFull;
            }

            if (!_budget.TryReserve(payload.Length))
            {
                return DeliveryOutcome.TunnelFull;
            }

            if (_queuedBytes == 0)
            {
                // The stall clock starts when data starts waiting, not at the last write long ago.
                _lastProgress = Environment.TickCount64;
            }

            _queuedBytes += payload.Length;
            if (!_writing && _toSocket.Count == 0 && _socket is not null)
            {
                _writing = true;
                direct = _socket;
            }
            else
            {
                _toSocket.Enqueue(payload);
                WakeWriter();
            }
        }

        if (direct is not null)
        {
            SendNow(direct, payload);
        }

        return DeliveryOutcome.Queued;
    }

    /// <summary>
    /// Deliver's direct write: the send starts on the caller's thread and, when the socket takes
    /// the whole payload at once (it usually does), finishes there, without waking the write
    /// loop. Otherwise the write loop awaits the rest of it before anything queued.
    /// </summary>
    private void SendNow(Socket socket, PooledPayload payload)
    {
        ValueTask<int> send;
        try
        {
            send = socket.SendAsync(payload.Memory, SocketFlags.None);
        }
        catch (Exception ex)
        {
            send = ValueTask.FromException<int>(ex);
        }

        if (!send.IsCompletedSuccessfully)
        {
            lock (_gate)
            {
                _unfinished = (send, payload);
                WakeWriter();
            }

            return;
        }

        // Consumed once, as a ValueTask must be: a send that completed on another thread just now
        // gives its operation object back to the socket for the next send.
        _ = send.Result;
        int length = payload.Length;
        EndWrite(payload, wakeWriterIfNeeded: true);
        Interlocked.Add(ref _bytesFromTunnel, length);
    }

    /// <summary>
    /// A write to the socket ended (sent, or failed): the payload's buffer goes back to the pool,
    /// and its bytes leave the connection's queue and the tunnel's receive budget. Deliver's
    /// direct send wakes the write loop only when there is something for it (waking an idle loop
    /// is the hand-over that path avoids).
    /// </summary>
    private void EndWrite(PooledPayload payload, bool wakeWriterIfNeeded)
    {
        int length = payload.Length;
        payload.Dispose();
        lock (_gate)
        {
            _writing = false;
            _queuedBytes -= length;
            _lastProgress = Environment.TickCount64;
            if (wakeWriterIfNeeded && (_toSocket.Count > 0 || Volatile.Read(ref _ending) != 0))
            {
                WakeWriter();
            }
        }

        _budget.Release(length);
    }

    /// <summary>
    /// The tunnel ended this connection (the peer reset it, its stream ended, the session
    /// stops): stop reading, write what is queued, wait until the client's kernel has
    /// acknowledged it, then close with RST. Sends nothing back. The stall timeout bounds the
    /// wait, as it bounds the writes.
    /// </summary>
    public void CloseFromTunnel(string reason)
    {
        bool attached;
        lock (_gate)
        {
            // The flag and the end are set together, so the write loop, which reads both under
            // the lock, cannot end this connection with FIN.
            if (Interlocked.CompareExchange(ref _ending, 1, 0) != 0)
            {
                return;
            }

            _resetAfterWrite = true;
            attached = _socket is not null;
            WakeWriter();
        }

        _logger.LogDebug("Closing {Key}: {Reason}", Key, reason);

        SetState(ConnectionState.Closing);
        _readStop.Cancel();
        if (!attached)
        {
            Finish();
        }
    }

    /// <summary>
    /// The tunnel broke under this connection (link lost, session stopped with data pending):
    /// close at once with RST, drop what is queued, send nothing back.
    /// </summary>
    public void AbortFromTunnel(string reason)
    {
        Interlocked.Exchange(ref _ending, 1);
        _logger.LogDebug("Aborting {Key}: {Reason}", Key, reason);
        Abort();
    }

    /// <summary>
    /// The full-queue policy reset this connection (its client is too far behind or makes no
    /// progress): RST locally, and the owner tells the peer.
    /// </summary>
    public void Reset(string reason)
    {
        EndLocally(reason, broken: true);
        Abort();
    }

    /// <summary>
    /// The periodic progress check: a connection with data waiting whose socket has taken nothing
    /// for the stall timeout is reset (or, when already closing, cut with RST). True when it was.
    /// </summary>
    public bool ResetIfStalled(long now)
    {
        long queued;
        lock (_gate)
        {
            if (_socket is null || _queuedBytes == 0 || now - _lastProgress < _limits.StallTimeout.TotalMilliseconds)
            {
                return false;
            }

            queued = _queuedBytes;
        }

        string reason = $"the local peer stopped reading ({queued} bytes waited over {_limits.StallTimeout.TotalMilliseconds:0} ms, connection_stall_timeout_ms)";
        if (Volatile.Read(ref _ending) != 0)
        {
            _logger.LogInformation("Connection {Key} cut: {Reason}", Key, reason);
            Abort();
        }
        else
        {
            Reset(reason);
        }

        return true;
    }

    /// <summary>Closes at once with RST and drops what is queued; the loops end on their own.</summary>
    public void Abort()
    {
        // Set before the writer wakes: a writer that finds its queue empty must not end with FIN.
        Interlocked.Exchange(ref _aborted, 1);
        Interlocked.Exchange(ref _ending, 1);
        Socket? socket;
        lock (_gate)
        {
            socket = _socket;
            DropQueuedLocked();
            WakeWriter();
        }

        _readStop.Cancel();
        if (socket is not null)
        {
            SetState(ConnectionState.Closing);
            CloseWithReset(socket);
        }
        else
        {
            Finish();
        }
    }

    private async Task RunAsync(Socket socket)
    {
        try
        {
            await Task.WhenAll(ReadLoopAsync(socket), WriteLoopAsync(socket)).ConfigureAwait(false);
        }
        finally
        {
            Finish();
        }
    }

    private async Task ReadLoopAsync(Socket socket)
    {
        string reason = "the local peer closed the connection";
        bool broken = false;
        try
        {
            var token = _readStop.Token;
            while (true)
            {
                // Wait for data with a zero-byte read first, so an idle connection holds no buffer.
                await socket.ReceiveAsync(Memory<byte>.Empty, SocketFlags.None, token).ConfigureAwait(false);

                // Then this connection's turn: the link's scheduler is where connections alternate.
                await _link.WaitTurnAsync(token, _turnShare).ConfigureAwait(false);
                var payload = PooledPayload.Rent(_link.Pool, _limits.ReadSize);
                int read;
                try
                {
                    read = await socket.ReceiveAsync(payload.Memory, SocketFlags.None, token).ConfigureAwait(false);
                }
                catch
                {
                    payload.Dispose();
                    _link.ReturnTurn(_turnShare);
                    throw;
                }

                if (read == 0)
                {
                    payload.Dispose();
                    _link.ReturnTurn(_turnShare);
                    break;
                }

                payload.Truncate(read);
                var data = Messages.Data(Key.StreamId, WireServiceId, WireConnectionId, UnsafeByteOperations.UnsafeWrap(payload.Memory));
                MessageTrace.Log(_logger, "Sending", data); // before the link owns the frame and may return its payload
                _link.PostInTurn(new OutgoingFrame(data, payload), _turnShare);
                Interlocked.Add(ref _bytesToTunnel, read);
            }
        }
        catch (OperationCanceledException)
        {
            return;
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException or System.Threading.Channels.ChannelClosedException)
        {
            reason = $"local socket error: {ex.Message}";
            broken = ex is not System.Threading.Channels.ChannelClosedException;
        }

        EndLocally(reason, broken);
        if (broken)
        {
            Abort();
        }
    }

    private async Task WriteLoopAsync(Socket socket)
    {
        try
        {
            bool resetAfterWrite;
            while (true)
            {
                PooledPayload? next = null;
                ValueTask<int>? started = null;
                Task? wait = null;
                lock (_gate)
                {
                    if (_unfinished is { } unfinished)
                    {
                        // _writing stays set: this loop finishes Deliver's send.
                        (started, next) = unfinished;
                        _unfinished = null;
                    }
                    else if (!_writing && _toSocket.TryDequeue(out next))
                    {
                        _writing = true;
                    }
                    else if (!_writing && Volatile.Read(ref _ending) != 0)
                    {
                        resetAfterWrite = _resetAfterWrite;
                        break;
                    }
                    else
                    {
                        // Nothing queued, or a direct send in progress (it wakes this loop when done).
                        _writeWaiter ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                        wait = _writeWaiter.Task;
                    }
                }

                if (wait is not null)
                {
                    await wait.ConfigureAwait(false);
                    continue;
                }

                int length = next!.Length;
                try
                {
                    await (started ?? socket.SendAsync(next.Memory, SocketFlags.None)).ConfigureAwait(false);
                }
                finally
                {
                    EndWrite(next, wakeWriterIfNeeded: false);
                }

                Interlocked.Add(ref _bytesFromTunnel, length);
            }

            // Everything received was written (unless the connection is being cut with RST).
            if (Volatile.Read(ref _aborted) != 0)
            {
                return;
            }

            if (resetAfterWrite && await WaitUntilClientHasAllAsync(socket).ConfigureAwait(false))
            {
                CloseWithReset(socket);
            }
            else
            {
                socket.Shutdown(SocketShutdown.Send);
            }
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            if (Volatile.Read(ref _ending) == 0)
            {
                EndLocally($"writing to the local socket failed: {ex.Message}", broken: true);
            }

            Abort();
        }
    }

    /// <summary>
    /// Waits until the kernel has sent everything written and the client's kernel has
    /// acknowledged it, so a RST discards nothing. True when the connection may now close with
    /// RST: everything was taken, or the client took nothing for the stall timeout (then it is
    /// cut, as a stalled flush is), or the connection was aborted meanwhile. False where the
    /// system cannot tell (not Linux): the connection ends with FIN, which loses nothing.
    /// </summary>
    private async Task<bool> WaitUntilClientHasAllAsync(Socket socket)
    {
        long lastAcknowledged = -1;
        long lastProgress = Environment.TickCount64;
        int delayMs = 1;
        while (Volatile.Read(ref _aborted) == 0)
        {
            if (!TcpSendQueue.TryRead(socket, out var queue))
            {
                return Volatile.Read(ref _aborted) != 0;
            }

            if (queue.Empty)
            {
                return true;
            }

            long now = Environment.TickCount64;
            if (queue.BytesAcknowledged != lastAcknowledged)
            {
                lastAcknowledged = queue.BytesAcknowledged;
                lastProgress = now;
            }
            else if (now - lastProgress >= _limits.StallTimeout.TotalMilliseconds)
            {
                _logger.LogInformation("Connection {Key} cut: the local peer stopped reading (its socket took nothing for {Timeout:0} ms, connection_stall_timeout_ms)",
                    Key, _limits.StallTimeout.TotalMilliseconds);
                return true;
            }

            // Acknowledgements on loopback come within microseconds, or a delayed ACK's 40 ms later.
            await Task.Delay(delayMs).ConfigureAwait(false);
            delayMs = Math.Min(delayMs * 2, 50);
        }

        return true;
    }

    private void EndLocally(string reason, bool broken)
    {
        if (Interlocked.Exchange(ref _ending, 1) != 0)
        {
            return;
        }

        SetState(ConnectionState.Closing);
        _logger.LogDebug("{Key} ended locally ({Kind}): {Reason}", Key, broken ? "RST" : "FIN", reason);
        _readStop.Cancel();
        lock (_gate)
        {
            WakeWriter();
        }

        _onLocalEnd(this, reason);
    }

    private void Finish()
    {
        if (Interlocked.Exchange(ref _finished, 1) != 0)
        {
            return;
        }

        Interlocked.Exchange(ref _ending, 1);
        Socket? socket;
        lock (_gate)
        {
            socket = _socket;
            DropQueuedLocked();
        }

        SetState(ConnectionState.Closed);
        socket?.Dispose();
        _closed.TrySetResult();
    }

    /// <summary>
    /// Returns the buffers of payloads that will never be written. The one being written belongs
    /// to its writer (an unfinished direct send too: the socket may still be reading it; once the
    /// socket is closed its send fails and the write loop returns it).
    /// </summary>
    private void DropQueuedLocked()
    {
        while (_toSocket.TryDequeue(out var dropped))
        {
            _queuedBytes -= dropped.Length;
            _budget.Release(dropped.Length);
            dropped.Dispose();
        }
    }

    private void WakeWriter()
    {
        var waiter = _writeWaiter;
        _writeWaiter = null;
        waiter?.TrySetResult();
    }

    private void SetState(ConnectionState state)
    {
        // Closed is final; Closing never goes back to Open.
        int current;
        do
        {
            current = Volatile.Read(ref _state);
            if (current == (int)ConnectionState.Closed || (current == (int)ConnectionState.Closing && state == ConnectionState.Open))
            {
                return;
            }
        }
        while (Interlocked.CompareExchange(ref _state, (int)state, current) != current);
    }

    /// <summary>RST: linger 0 makes the close discard unsent data and send a reset.</summary>
    private static void CloseWithReset(Socket socket)
    {
        try
        {
            socket.LingerState = new LingerOption(true, 0);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            // Already closed.
        }

        socket.Dispose();
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
}

/// <summary>What became of a payload handed to <see cref="LocalConnection.Deliver"/>.</summary>
internal enum DeliveryOutcome
{
    /// <summary>Queued for the socket.</summary>
    Queued,
    /// <summary>The connection is ending and takes no more data; the payload was not taken.</summary>
    Dropped,
    /// <summary>The connection's queue is full (its client is too far behind); the payload was not taken.</summary>
    ConnectionFull,
    /// <summary>The tunnel-wide receive budget is used up; the payload was not taken.</summary>
    TunnelFull,
}
