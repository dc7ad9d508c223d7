using System.Buffers;
using System.IO.Pipelines;
using System.Net.WebSockets;
using System.Threading.Channels;
using AwsTunnel.Engine.Protocol;
using Microsoft.Extensions.Logging;

namespace AwsTunnel.Engine.Transport;

/// <summary>
/// Where received messages go, in order, on the link's receive loop. A DATA payload arrives in
/// <paramref name="payload"/>, which the handler now owns: it disposes it once the payload is
/// used, or hands it on. <paramref name="message"/>'s payload is a view of it. Null when the
/// message has no payload. A proxy's handler never waits (see <see cref="Tunnel.TunnelSide"/>);
/// the local service's relay waits for its turn on the other link, which is its backpressure.
/// Throwing <see cref="TunnelProtocolException"/> ends the link at once as a protocol violation.
/// </summary>
internal delegate ValueTask MessageHandler(Message message, PooledPayload? payload, CancellationToken cancellationToken);

/// <summary>
/// One WebSocket to the service, as a message pump: received bytes are reassembled into
/// tunneling frames whatever the WebSocket chunking; frames from the <see cref="SendScheduler"/>
/// are batched into WebSocket messages of at most <c>websocket.max_frame_size</c> bytes.
/// </summary>
internal sealed class TunnelLink : IAsyncDisposable
{
    /// <summary>
    /// Data frames granted and not yet sent, by default (the scheduler's turns). Small on
    /// purpose: whatever waits here delays every connection behind it (16 DATA frames ≈ 1 MiB),
    /// so a bulk transfer cannot hold back an interactive one for long, while two 63 KiB frames
    /// still fill each WebSocket message.
    /// </summary>
    public const int DefaultSendQueueCapacity = 16;

    /// <summary>The most one WebSocket receive takes: a whole DATA frame, so a frame rarely needs several receives.</summary>
    private const int ReceiveChunkSize = 64 * 1024;

    private readonly WebSocket _socket;
    private readonly ILogger _logger;
    private readonly int _maxWebSocketMessage;
    private readonly bool _strictDecoding;
    private readonly ArrayPool<byte> _pool;
    private readonly SendScheduler _scheduler;
    private readonly CancellationTokenSource _stop = new();

    /// <param name="socket">The WebSocket, after the handshake.</param>
    /// <param name="logger">Where the link logs.</param>
    /// <param name="maxWebSocketMessage">The largest WebSocket message to send.</param>
    /// <param name="strictDecoding">Refuse messages with unknown fields (the service side's rule).</param>
    /// <param name="sendQueueCapacity">How many data frames may be granted and not yet sent (the scheduler's turns).</param>
    /// <param name="pool">Where payload and batch buffers come from (default: the shared pool).</param>
    public TunnelLink(
        WebSocket socket, ILogger logger, int maxWebSocketMessage = ProtocolLimits.MaxWebSocketFrameSize, bool strictDecoding = false,
        int sendQueueCapacity = DefaultSendQueueCapacity, ArrayPool<byte>? pool = null)
    {
        _strictDecoding = strictDecoding;
        _socket = socket;
        _logger = logger;
        _pool = pool ?? ArrayPool<byte>.Shared;
        _maxWebSocketMessage = Math.Max(maxWebSocketMessage, ProtocolLimits.MaxFrameSize);
        _scheduler = new SendScheduler(sendQueueCapacity);
    }

    /// <summary>Total tunneling bytes sent and received on this link (frames, prefixes included).</summary>
    public long BytesSent => Interlocked.Read(ref _bytesSent);
    public long BytesReceived => Interlocked.Read(ref _bytesReceived);
    private long _bytesSent;
    private long _bytesReceived;

    /// <summary>How many WebSocket messages were sent (tests check how frames are packed).</summary>
    public long MessagesSent => Interlocked.Read(ref _messagesSent);
    private long _messagesSent;

    /// <summary>The pool this link's payload buffers come from.</summary>
    public ArrayPool<byte> Pool => _pool;

    /// <summary>Queues a control message without waiting; false once the link is closed.</summary>
    public bool TryPost(Message message) => _scheduler.TryPost(new OutgoingFrame(message));

    /// <summary>Waits for the caller's turn to post one data frame (see <see cref="SendScheduler"/>).</summary>
    /// <exception cref="ChannelClosedException">the link is closed.</exception>
    public Task WaitTurnAsync(CancellationToken cancellationToken, TurnShare? share = null) => _scheduler.WaitTurnAsync(cancellationToken, share);

    /// <summary>Posts a frame in the caller's turn; the link owns it from here, even when this throws.</summary>
    public void PostInTurn(OutgoingFrame frame, TurnShare? share = null) => _scheduler.PostInTurn(frame, share);

    /// <summary>Gives back an unused turn.</summary>
    public void ReturnTurn(TurnShare? share = null) => _scheduler.ReturnTurn(share);

    /// <summary>
    /// Waits for a turn and queues <paramref name="frame"/> (the local service's relay). The link
    /// owns the frame from the call on: it is disposed once encoded, or at once when this throws.
    /// </summary>
    /// <exception cref="ChannelClosedException">the link is closed.</exception>
    public async ValueTask SendAsync(OutgoingFrame frame, CancellationToken cancellationToken)
    {
        try
        {
            await _scheduler.WaitTurnAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            frame.Dispose();
            throw;
        }

        _scheduler.PostInTurn(frame);
    }

    /// <summary>
    /// Runs the link until the WebSocket ends or <see cref="StopAsync"/> is called, handing
    /// each received message to <paramref name="handler"/> in order.
    /// </summary>
    public async Task<LinkEnd> RunAsync(MessageHandler handler, CancellationToken cancellationToken)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _stop.Token);
        var token = linked.Token;
        var receive = ReceiveAsync(handler, token);
        var send = SendLoopAsync(token);

        var first = await Task.WhenAny(receive, send).ConfigureAwait(false);
        var end = await first.ConfigureAwait(false);
        if (end.Kind == LinkEndKind.Stopped && first != receive && !_stopRequested && !token.IsCancellationRequested)
        {
            // Only the receive loop knows why the WebSocket ended (a loss must not read as a local stop).
            end = await receive.ConfigureAwait(false);
        }

        _scheduler.Close();
        if (end.Kind == LinkEndKind.ProtocolViolation)
        {
            // Before cancelling: cancelling a pending receive aborts the WebSocket, and the close
            // may only go out once the send loop has finished its last message.
            await IgnoreFailure(_drained.Task.WaitAsync(TimeSpan.FromSeconds(1))).ConfigureAwait(false);
            await CloseForViolationAsync(end.Description).ConfigureAwait(false);
        }

        linked.Cancel();
        await Task.WhenAll(IgnoreFailure(receive), IgnoreFailure(send)).ConfigureAwait(false);
        _scheduler.DropAll();

        if (end.Kind != LinkEndKind.ClosedByService)
        {
            _socket.Abort();
        }

        return end;
    }

    /// <summary>
    /// Sends what is queued, then closes the WebSocket with <paramref name="status"/> and waits
    /// (within <paramref name="timeout"/>) for the other end to answer the close.
    /// </summary>
    /// <param name="timeout">The most the close may take.</param>
    /// <param name="status">The close status to send.</param>
    /// <param name="description">The close reason to send.</param>
    /// <param name="discardQueued">Drop queued messages not yet sent, so the close goes out promptly (the service closing a tunnel).</param>
    public async Task StopAsync(
        TimeSpan timeout, WebSocketCloseStatus status = WebSocketCloseStatus.NormalClosure, string description = "local proxy stopped",
        bool discardQueued = false)
    {
        _stopRequested = true;
        _scheduler.Close();
        if (discardQueued)
        {
            _discardQueued = true;
            _scheduler.DropAll();
        }

        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _drained.Task.WaitAsync(cts.Token).ConfigureAwait(false);
            if (_socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
            {
                await _socket.CloseOutputAsync(status, description, cts.Token).ConfigureAwait(false);
            }

            await _receiveEnded.Task.WaitAsync(cts.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or TimeoutException or WebSocketException or ObjectDisposedException)
        {
            _logger.LogDebug("Closing the WebSocket did not finish cleanly: {Reason}", ex.Message);
        }
        finally
        {
            _stop.Cancel();
        }
    }

    /// <summary>Closes the WebSocket at once, without a close handshake.</summary>
    public void Abort()
    {
        _stopRequested = true;
        _scheduler.Close();
        _socket.Abort();
        _stop.Cancel();
    }

    private volatile bool _stopRequested;
    private volatile bool _discardQueued;
    private readonly TaskCompletionSource _drained = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _receiveEnded = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public ValueTask DisposeAsync()
    {
        _scheduler.Close();
        _scheduler.DropAll();
        _stop.Cancel();
        _socket.Dispose();
        // _stop is not disposed: a concurrent StopAsync may still cancel it; it holds no timer.
        return ValueTask.CompletedTask;
    }

    /// <summary>
    /// Receives from the WebSocket and hands each complete frame to <paramref name="handler"/> on
    /// the same loop (no hand-over to another task per message). Awaiting the handler stops
    /// receiving, which is the backpressure. The pipe only holds a partial frame between receives.
    /// </summary>
    private async Task<LinkEnd> ReceiveAsync(MessageHandler handler, CancellationToken token)
    {
        var pipe = new Pipe(new PipeOptions(pauseWriterThreshold: 0, useSynchronizationContext: false));
        var writer = pipe.Writer;
        var reader = pipe.Reader;
        try
        {
            bool drained = true;
            while (true)
            {
                if (drained)
                {
                    // Wait for data without a buffer (WebSocket zero-byte read), so an idle link holds none.
                    var ready = await _socket.ReceiveAsync(Memory<byte>.Empty, token).ConfigureAwait(false);
                    if (ready.MessageType == WebSocketMessageType.Close)
                    {
                        return await OnCloseAsync(reader, token).ConfigureAwait(false);
                    }
                }

                var memory = writer.GetMemory(ReceiveChunkSize);
                var result = await _socket.ReceiveAsync(memory, token).ConfigureAwait(false);
                drained = result.Count < memory.Length;
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    return await OnCloseAsync(reader, token).ConfigureAwait(false);
                }

                if (result.MessageType == WebSocketMessageType.Text)
                {
                    return Violation("A text WebSocket frame arrived; the protocol is binary only.");
                }

                writer.Advance(result.Count);
                Interlocked.Add(ref _bytesReceived, result.Count);
                await writer.FlushAsync(token).ConfigureAwait(false); // never waits: no pause threshold
                if (!reader.TryRead(out var read))
                {
                    continue;
                }

                var buffer = read.Buffer;
                try
                {
                    while (FrameDecoder.TryReadFrame(ref buffer, out var message, out var rented, _strictDecoding, _pool))
                    {
                        var payload = rented is null ? null : PooledPayload.Adopt(_pool, rented, message.Payload.Length);
                        await handler(message, payload, token).ConfigureAwait(false);
                    }
                }
                catch (TunnelProtocolException ex)
                {
                    return Violation(ex.Message);
                }

                reader.AdvanceTo(buffer.Start, buffer.End);
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            return Stopped();
        }
        catch (OperationCanceledException ex)
        {
            // The runtime aborts the WebSocket this way when a keep-alive PING goes unanswered.
            return new LinkEnd(LinkEndKind.Lost, "The service stopped answering keep-alive pings; the connection is dead.", Error: ex);
        }
        catch (Exception ex) when (ex is WebSocketException or IOException or ObjectDisposedException)
        {
            return _stopRequested ? Stopped() : new LinkEnd(LinkEndKind.Lost, $"The WebSocket connection was lost: {ex.Message}", Error: ex);
        }
        finally
        {
            _receiveEnded.TrySetResult();
            await writer.CompleteAsync().ConfigureAwait(false);
            await reader.CompleteAsync().ConfigureAwait(false);
        }
    }

    /// <summary>The other end closed the WebSocket: answer, and say whether a frame was cut short.</summary>
    private async Task<LinkEnd> OnCloseAsync(PipeReader reader, CancellationToken token)
    {
        if (reader.TryRead(out var left) && !left.Buffer.IsEmpty)
        {
            _logger.LogDebug("The WebSocket closed inside a tunneling frame ({Bytes} bytes left over).", left.Buffer.Length);
            reader.AdvanceTo(left.Buffer.End);
        }

        await AnswerCloseAsync(token).ConfigureAwait(false);
        return _stopRequested ? Stopped() : ClosedByService();
    }

    private async Task AnswerCloseAsync(CancellationToken token)
    {
        if (_socket.State != WebSocketState.CloseReceived)
        {
            return;
        }

        try
        {
            await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, string.Empty, token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is WebSocketException or IOException or ObjectDisposedException or OperationCanceledException)
        {
            // The other end already went away; its close frame said all there was to say.
        }
    }

    /// <summary>
    /// Takes frames from the scheduler in order and packs them into WebSocket messages. A
    /// STREAM_START or CONNECTION_START ends its message: the reference destination handles a
    /// start and stops reading the rest of that WebSocket message until another one arrives, so
    /// a DATA frame packed after the start would wait (the client's first bytes, often forever).
    /// </summary>
    private async Task<LinkEnd> SendLoopAsync(CancellationToken token)
    {
        var batch = new PooledBatchWriter(_maxWebSocketMessage, _pool);
        try
        {
            while (await _scheduler.WaitToTakeAsync(token).ConfigureAwait(false))
            {
                if (_discardQueued)
                {
                    _scheduler.DropAll();
                    continue;
                }

                while (_scheduler.TryTake(out var frame))
                {
                    using (frame)
                    {
                        int size;
                        try
                        {
                            size = FrameEncoder.FrameSize(frame.Message);
                            if (batch.WrittenCount > 0 && batch.WrittenCount + size > _maxWebSocketMessage)
                            {
                                await FlushAsync(batch, token).ConfigureAwait(false);
                            }

                            FrameEncoder.Write(batch, frame.Message);
                        }
                        catch (TunnelProtocolException ex)
                        {
                            // One message that cannot be framed (e.g. a reply echoing an oversized service id) is dropped, not fatal.
                            _logger.LogWarning("Dropped a {Type} message that cannot be sent: {Reason}", frame.Message.Type, ex.Message);
                            continue;
                        }
                    }

                    if (frame.EndsWebSocketMessage)
                    {
                        await FlushAsync(batch, token).ConfigureAwait(false);
                    }
                }

                await FlushAsync(batch, token).ConfigureAwait(false);
            }

            _drained.TrySetResult();
            // Queue completed (stop requested): keep the link up until the receive side ends.
            await Task.Delay(Timeout.Infinite, token).ConfigureAwait(false);
            return Stopped();
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            return Stopped();
        }
        catch (Exception ex) when (ex is WebSocketException or IOException or ObjectDisposedException or OperationCanceledException)
        {
            if (_stopRequested)
            {
                return Stopped();
            }

            // A send can fail because the service's close frame just arrived: report the close, not a loss.
            return _socket.CloseStatus is not null
                ? ClosedByService()
                : new LinkEnd(LinkEndKind.Lost, $"Sending on the WebSocket failed: {ex.Message}", Error: ex);
        }
        finally
        {
            batch.Release();
            _drained.TrySetResult();
        }
    }

    /// <summary>Sends the batch as one WebSocket message (nothing when it is empty) and releases its buffer.</summary>
    private async ValueTask FlushAsync(PooledBatchWriter batch, CancellationToken token)
    {
        if (batch.WrittenCount > 0)
        {
            await _socket.SendAsync(batch.WrittenMemory, WebSocketMessageType.Binary, endOfMessage: true, token).ConfigureAwait(false);
            Interlocked.Add(ref _bytesSent, batch.WrittenCount);
            Interlocked.Increment(ref _messagesSent);
        }

        batch.Release();
    }

    /// <summary>Tells the other end why (close status 1002) before the connection is dropped.</summary>
    private async Task CloseForViolationAsync(string reason)
    {
        if (_socket.State is not (WebSocketState.Open or WebSocketState.CloseReceived))
        {
            return;
        }

        // A close reason may hold at most 123 bytes of UTF-8.
        string text = reason.Length > 120 ? reason[..120] : reason;
        while (System.Text.Encoding.UTF8.GetByteCount(text) > 123)
        {
            text = text[..^1];
        }

        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(1));
            await _socket.CloseOutputAsync(WebSocketCloseStatus.ProtocolError, text, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is WebSocketException or IOException or ObjectDisposedException or OperationCanceledException)
        {
            // The connection is going anyway.
        }
    }

    private LinkEnd ClosedByService()
    {
        var status = _socket.CloseStatus;
        string description = _socket.CloseStatusDescription ?? string.Empty;
        return new LinkEnd(LinkEndKind.ClosedByService,
            $"The service closed the WebSocket ({(int?)status} {status}{(description.Length > 0 ? ": " + description : string.Empty)}).", status);
    }

    private static LinkEnd Stopped() => new(LinkEndKind.Stopped, "The local proxy closed the WebSocket.");

    private static LinkEnd Violation(string reason) => new(LinkEndKind.ProtocolViolation, reason);

    private static async Task IgnoreFailure(Task task)
    {
        try
        {
            await task.ConfigureAwait(false);
        }
        catch
        {
            // The first task to finish already decided how the link ended.
        }
    }
}
