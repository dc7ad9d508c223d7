namespace AwsTunnel.Engine.Tunnel;

/// <summary>
/// Runs a session's event callbacks and log writes one at a time, in the order they were
/// raised, on the thread pool: never on the socket or link loop that raised them, so a slow
/// subscriber or a blocked log output (a full stderr pipe) cannot stall the data path, and a
/// throwing subscriber cannot break it. No thread or task exists while nothing is pending.
/// Log records are dropped when more than <see cref="MaxPendingLogs"/> wait, and the count is
/// reported once the backlog is down to half (<see cref="OnLogsDropped"/>): one line per burst,
/// in order with the records around it. Events are never dropped.
/// </summary>
internal sealed class SerialDispatcher
{
    /// <summary>Log records that may wait for a slow log output before new ones are dropped.</summary>
    public const int MaxPendingLogs = 10_000;

    private readonly object _gate = new();
    private readonly Queue<(Action Work, bool IsLog)> _queue = new();
    private Action<Exception>? _onError;
    private Action<int>? _onLogsDropped;
    private Task _draining = Task.CompletedTask;
    private bool _running;
    private int _pendingLogs;
    private int _droppedLogs;
    private int _droppedSinceReport;

    /// <summary>Where a failing callback is reported (set once the session's logger exists).</summary>
    public void OnError(Action<Exception> onError) => _onError = onError;

    /// <summary>
    /// Where dropped log records are reported: called on the dispatcher (so it should write to
    /// the log output directly, in order) with the count dropped since the last report, once the
    /// backlog is down to half of <see cref="MaxPendingLogs"/>.
    /// </summary>
    public void OnLogsDropped(Action<int> report) => _onLogsDropped = report;

    /// <summary>Queues an event callback.</summary>
    public void Post(Action work) => Enqueue(work, isLog: false);

    /// <summary>Queues a log write; dropped when the log output is far behind.</summary>
    public void PostLog(Action write)
    {
        lock (_gate)
        {
            if (_pendingLogs >= MaxPendingLogs)
            {
                _droppedLogs++;
                _droppedSinceReport++;
                return;
            }

            _pendingLogs++;
        }

        Enqueue(write, isLog: true);
    }

    /// <summary>Log records dropped so far because the output was too slow.</summary>
    public int DroppedLogs
    {
        get
        {
            lock (_gate)
            {
                return _droppedLogs;
            }
        }
    }

    /// <summary>Waits until everything queued has run; false at the deadline.</summary>
    public async Task<bool> WhenIdleAsync(TimeSpan deadline)
    {
        var stopAt = DateTime.UtcNow + deadline;
        while (true)
        {
            Task draining;
            lock (_gate)
            {
                if (!_running)
                {
                    return true;
                }

                draining = _draining;
            }

            var left = stopAt - DateTime.UtcNow;
            if (left <= TimeSpan.Zero)
            {
                return false;
            }

            try
            {
                await draining.WaitAsync(left).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                return false;
            }
        }
    }

    private void Enqueue(Action work, bool isLog)
    {
        lock (_gate)
        {
            _queue.Enqueue((work, isLog));
            if (_running)
            {
                return;
            }

            _running = true;
            _draining = Task.Run(Drain);
        }
    }

    private void Drain()
    {
        while (true)
        {
            (Action Work, bool IsLog) next = (static () => { }, false);
            int dropped = 0;
            lock (_gate)
            {
                if (_droppedSinceReport > 0 && _pendingLogs <= MaxPendingLogs / 2)
                {
                    // Caught up: say how many records are missing, before the records queued after the gap.
                    dropped = _droppedSinceReport;
                    _droppedSinceReport = 0;
                }
                else if (!_queue.TryDequeue(out next))
                {
                    _running = false;
                    return;
                }
                else if (next.IsLog)
                {
                    _pendingLogs--;
                }
            }

            if (dropped > 0)
            {
                Report(dropped);
                continue;
            }

            try
            {
                next.Work();
            }
            catch (Exception ex)
            {
                if (!next.IsLog)
                {
                    // A subscriber threw: report it (through the log, queued behind this) and go on.
                    try
                    {
                        _onError?.Invoke(ex);
                    }
                    catch
                    {
                        // Reporting must not end the dispatcher either.
                    }
                }
            }
        }
    }

    private void Report(int dropped)
    {
        try
        {
            _onLogsDropped?.Invoke(dropped);
        }
        catch
        {
            // Reporting must not end the dispatcher.
        }
    }
}
