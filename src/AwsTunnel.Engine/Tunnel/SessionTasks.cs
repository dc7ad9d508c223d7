namespace AwsTunnel.Engine.Tunnel;

/// <summary>
/// Every task a session starts (link supervisor, accept loops, connections, connect attempts,
/// the progress check), so that stopping can wait for all of them, or give up on them at a
/// deadline, and nothing of the session runs on after it has ended.
/// </summary>
internal sealed class SessionTasks
{
    private readonly object _gate = new();
    private readonly HashSet<Task> _running = new();
    private readonly Action<Exception> _onFault;

    /// <param name="onFault">Told about a tracked task that failed (a bug: tracked tasks handle their own errors).</param>
    public SessionTasks(Action<Exception> onFault) => _onFault = onFault;

    /// <summary>Tasks still running.</summary>
    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _running.Count;
            }
        }
    }

    /// <summary>Tracks <paramref name="task"/> until it completes.</summary>
    public void Track(Task task)
    {
        if (task.IsCompleted)
        {
            Observe(task);
            return;
        }

        lock (_gate)
        {
            _running.Add(task);
        }

        task.ContinueWith(
            static (t, state) =>
            {
                var self = (SessionTasks)state!;
                lock (self._gate)
                {
                    self._running.Remove(t);
                }

                self.Observe(t);
            },
            this, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    /// <summary>Waits until every tracked task (also ones started meanwhile) has completed; false at the deadline.</summary>
    public async Task<bool> WhenAllAsync(TimeSpan deadline)
    {
        var stopAt = DateTime.UtcNow + deadline;
        while (true)
        {
            Task[] running;
            lock (_gate)
            {
                running = _running.ToArray();
            }

            if (running.Length == 0)
            {
                return true;
            }

            var left = stopAt - DateTime.UtcNow;
            if (left <= TimeSpan.Zero)
            {
                return false;
            }

            try
            {
                await Task.WhenAll(running).WaitAsync(left).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                return false;
            }
            catch
            {
                // Faults are reported by Observe; waiting only cares that they ended.
            }
        }
    }

    private void Observe(Task task)
    {
        if (task.IsFaulted && task.Exception is { } error)
        {
            _onFault(error.InnerExceptions.Count == 1 ? error.InnerExceptions[0] : error);
        }
    }
}
