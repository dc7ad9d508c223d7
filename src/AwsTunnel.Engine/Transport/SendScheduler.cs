using System.Threading.Channels;

namespace AwsTunnel.Engine.Transport;

/// <summary>
/// What a link sends, in what order: the one place where connections take turns for the
/// WebSocket (as Kestrel's Http2FrameWriter takes turns among its streams' output producers).
/// <para>
/// Frames go out in the order they are posted; that keeps each connection's frames in order
/// (its STREAM_START before its DATA, its last DATA before its reset). Data producers take
/// turns before they read: a producer waits for a turn (<see cref="WaitTurnAsync"/>), reads one
/// frame's worth from its socket, and posts it in that turn (<see cref="PostInTurn"/>). At most
/// <c>turns</c> frames are granted and not yet taken by the send loop, so the bytes waiting to
/// be sent are bounded by turns × frame size whatever the number of connections. Turns are
/// granted first come, first served from an explicit queue; a producer asks again after each
/// frame, so busy producers alternate (round-robin) and a newly active one waits at most for
/// the frames already granted. Control messages (starts, resets) never wait for a turn: they
/// are small and few, and a tunnel event must never wait behind bulk data.
/// </para>
/// <para>
/// A producer that passes its <see cref="TurnShare"/> holds at most <c>turnsPerProducer</c> of the
/// turns at once: one bulk connection alone cannot fill the queue, so a newly active connection's
/// frame waits behind a few frames, not behind all the turns (B5 measures this).
/// </para>
/// <para>
/// Sparse producers first (as FQ-CoDel serves its new flows before its old ones): a producer
/// that asks while it holds no turn (none of its frames waits to be sent: an interactive
/// connection, or one that was idle) is granted the next free turn before the producers that
/// ask again with frames still queued (bulk connections), and the frame it posts in that turn
/// is sent before the bulk frames already queued. Without this, a keystroke waited behind one
/// frame of every busy connection and then behind all the queued ones (B8 measures this). Its
/// frame still goes after every control message posted before it (its own CONNECTION_START
/// among them); nothing of its own is queued, so no connection's frames change order. A bulk
/// producer gets every turn the sparse ones leave; a sparse producer that keeps frames queued
/// asks as a bulk one next time.
/// </para>
/// <para>
/// When the send loop is idle, a data frame posted in turn wakes it on the producer's own thread:
/// the loop sends the frame there and then, before the producer reads again, instead of a
/// thread-pool thread waking up for it (on a round trip through source, service and destination,
/// four thread wake-ups fewer; B7 measures them). Control messages and the close wake the loop
/// through the thread pool: their callers may hold locks of their own.
/// </para>
/// <para>Thread-safe: every operation takes one short lock, so any party may drop what is queued.</para>
/// </summary>
internal sealed class SendScheduler
{
    private readonly object _gate = new();
    private readonly Queue<(OutgoingFrame Frame, bool InTurn, TurnShare? Share)> _queue = new();
    // Frames posted in a sparse turn: taken before _queue once every control message posted before them was taken.
    private readonly Queue<(OutgoingFrame Frame, TurnShare Share, long AfterControl)> _sparseFrames = new();
    private long _controlPosted;
    private long _controlTaken;
    private readonly List<(TaskCompletionSource Waiter, TurnShare? Share)> _waiters = new();
    // Producers that asked while holding no turn: served before _waiters, in the order they asked.
    private readonly Queue<(TaskCompletionSource Waiter, TurnShare Share)> _sparseWaiters = new();
    private readonly int _turns;
    private readonly int _turnsPerProducer;
    private int _turnsOut;
    private bool _closed;
    private TaskCompletionSource? _takeWaiter;

    /// <summary>How many turns one producer may hold at once by default (granted and not yet taken).</summary>
    public const int DefaultTurnsPerProducer = 4;

    /// <param name="turns">How many frames may be granted and not yet taken by the send loop.</param>
    /// <param name="turnsPerProducer">How many of them one producer (one <see cref="TurnShare"/>) may hold.</param>
    public SendScheduler(int turns, int turnsPerProducer = DefaultTurnsPerProducer)
    {
        _turns = Math.Max(1, turns);
        _turnsPerProducer = Math.Max(1, turnsPerProducer);
    }

    /// <summary>Frames posted and not yet taken.</summary>
    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _queue.Count + _sparseFrames.Count;
            }
        }
    }

    /// <summary>Waits for this producer's turn to post one frame.</summary>
    /// <param name="cancellationToken">Ends the wait.</param>
    /// <param name="share">The producer's share of the turns (null: no per-producer limit).</param>
    /// <exception cref="ChannelClosedException">the link is closed.</exception>
    public Task WaitTurnAsync(CancellationToken cancellationToken, TurnShare? share = null)
    {
        TaskCompletionSource waiter;
        lock (_gate)
        {
            if (_closed)
            {
                return Task.FromException(Closed());
            }

            // Free turns with waiters left means every waiter is at its own limit, so this one may go first.
            if (_turnsOut < _turns && CanHold(share))
            {
                Grant(share, sparse: share is { Held: 0 });
                return Task.CompletedTask;
            }

            waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            if (share is { Held: 0 })
            {
                _sparseWaiters.Enqueue((waiter, share));
            }
            else
            {
                _waiters.Add((waiter, share));
            }
        }

        return cancellationToken.CanBeCanceled ? WaitAsync(waiter, cancellationToken) : waiter.Task;
    }

    /// <summary>Posts a frame in the caller's turn. The scheduler owns the frame from here, even when this throws.</summary>
    /// <exception cref="ChannelClosedException">the link is closed (the frame was dropped).</exception>
    public void PostInTurn(OutgoingFrame frame, TurnShare? share = null)
    {
        TaskCompletionSource? idleTaker = null;
        bool posted;
        lock (_gate)
        {
            posted = !_closed;
            if (posted)
            {
                if (share is { SparseTurn: true })
                {
                    share.SparseTurn = false;
                    _sparseFrames.Enqueue((frame, share, _controlPosted));
                }
                else
                {
                    _queue.Enqueue((frame, true, share));
                }

                idleTaker = DetachTaker();
            }
            else
            {
                ReturnTurnLocked(share);
            }
        }

        if (!posted)
        {
            frame.Dispose();
            throw Closed();
        }

        // Outside the lock, on this thread: an idle send loop continues here and sends the frame
        // at once, instead of a thread-pool thread waking up for it (one hand-over less per
        // message on each hop of a round trip).
        idleTaker?.TrySetResult();
    }

    /// <summary>Gives back a turn that was granted but will not be used (the read failed or found the end).</summary>
    public void ReturnTurn(TurnShare? share = null)
    {
        lock (_gate)
        {
            ReturnTurnLocked(share);
        }
    }

    /// <summary>Posts a control message without waiting for a turn. False (and the frame dropped) once the link is closed.</summary>
    public bool TryPost(OutgoingFrame frame)
    {
        lock (_gate)
        {
            if (!_closed)
            {
                _queue.Enqueue((frame, false, null));
                _controlPosted++;
                WakeOnThreadPool(DetachTaker());
                return true;
            }
        }

        frame.Dispose();
        return false;
    }

    /// <summary>The send loop: takes the next frame; a frame posted in turn frees its turn for the next producer.</summary>
    public bool TryTake(out OutgoingFrame frame)
    {
        lock (_gate)
        {
            if (_sparseFrames.TryPeek(out var sparse) && _controlTaken >= sparse.AfterControl)
            {
                _sparseFrames.Dequeue();
                ReturnTurnLocked(sparse.Share);
                frame = sparse.Frame;
                return true;
            }

            if (!_queue.TryDequeue(out var next))
            {
                frame = default;
                return false;
            }

            if (next.InTurn)
            {
                ReturnTurnLocked(next.Share);
            }
            else
            {
                _controlTaken++;
            }

            frame = next.Frame;
            return true;
        }
    }

    /// <summary>The send loop: waits until a frame is queued (true) or the scheduler is closed and empty (false).</summary>
    public async ValueTask<bool> WaitToTakeAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            TaskCompletionSource waiter;
            lock (_gate)
            {
                if (_queue.Count > 0 || _sparseFrames.Count > 0)
                {
                    return true;
                }

                if (_closed)
                {
                    return false;
                }

                // Completed on the producer's thread by PostInTurn (the loop runs on there), through the thread pool otherwise.
                _takeWaiter ??= new TaskCompletionSource();
                waiter = _takeWaiter;
            }

            await waiter.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>No more frames are accepted; producers waiting for a turn fail. What is queued may still be taken.</summary>
    public void Close()
    {
        List<TaskCompletionSource> waiters;
        lock (_gate)
        {
            if (_closed)
            {
                return;
            }

            _closed = true;
            waiters = _sparseWaiters.Select(w => w.Waiter).Concat(_waiters.Select(w => w.Waiter)).ToList();
            _sparseWaiters.Clear();
            _waiters.Clear();
            WakeOnThreadPool(DetachTaker());
        }

        foreach (var waiter in waiters)
        {
            waiter.TrySetException(Closed());
        }
    }

    /// <summary>Drops every queued frame (their pooled buffers go back); returns how many.</summary>
    public int DropAll()
    {
        List<OutgoingFrame> dropped = new();
        lock (_gate)
        {
            while (_sparseFrames.TryDequeue(out var sparse))
            {
                ReturnTurnLocked(sparse.Share);
                dropped.Add(sparse.Frame);
            }

            while (_queue.TryDequeue(out var next))
            {
                if (next.InTurn)
                {
                    ReturnTurnLocked(next.Share);
                }
                else
                {
                    _controlTaken++;
                }

                dropped.Add(next.Frame);
            }
        }

        dropped.ForEach(f => f.Dispose());
        return dropped.Count;
    }

    private bool CanHold(TurnShare? share) => share is null || share.Held < _turnsPerProducer;

    private void Grant(TurnShare? share, bool sparse)
    {
        _turnsOut++;
        if (share is not null)
        {
            share.Held++;
            share.SparseTurn = sparse;
        }
    }

    private void ReturnTurnLocked(TurnShare? share)
    {
        _turnsOut--;
        if (share is not null)
        {
            share.Held--;
            if (share.Held == 0)
            {
                // A sparse turn given back unused (the read found nothing, or failed).
                share.SparseTurn = false;
            }
        }

        // Sparse producers first (they hold nothing, so none is at its limit), in the order they asked.
        // A waiter whose wait was cancelled is skipped: its turn goes to the next one.
        while (_turnsOut < _turns && _sparseWaiters.TryDequeue(out var sparse))
        {
            if (sparse.Waiter.TrySetResult())
            {
                Grant(sparse.Share, sparse: true);
            }
        }

        // Then first come, first served among the waiters that may hold another turn; one at its
        // own limit keeps its place until one of its frames is taken.
        for (int i = 0; i < _waiters.Count && _turnsOut < _turns;)
        {
            var (waiter, waiterShare) = _waiters[i];
            if (!CanHold(waiterShare))
            {
                i++;
                continue;
            }

            _waiters.RemoveAt(i);

            // A waiter whose wait was cancelled is skipped: its turn goes to the next one.
            if (waiter.TrySetResult())
            {
                Grant(waiterShare, sparse: false);
            }
        }
    }

    /// <summary>Takes the send loop's waiter, if it waits, for the caller to complete outside the lock.</summary>
    private TaskCompletionSource? DetachTaker()
    {
        var waiter = _takeWaiter;
        _takeWaiter = null;
        return waiter;
    }

    /// <summary>
    /// Wakes the send loop through the thread pool: for control messages and the close, whose
    /// callers may hold locks of their own (the loop must not run on under them).
    /// </summary>
    private static void WakeOnThreadPool(TaskCompletionSource? idleTaker)
    {
        if (idleTaker is not null)
        {
            ThreadPool.UnsafeQueueUserWorkItem(static waiter => waiter.TrySetResult(), idleTaker, preferLocal: false);
        }
    }

    private async Task WaitAsync(TaskCompletionSource waiter, CancellationToken cancellationToken)
    {
        using (cancellationToken.Register(static w => ((TaskCompletionSource)w!).TrySetCanceled(), waiter))
        {
            try
            {
                await waiter.Task.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                cancellationToken.ThrowIfCancellationRequested();
                throw;
            }
        }
    }

    private static ChannelClosedException Closed() => new("The tunnel's WebSocket is closed.");
}
