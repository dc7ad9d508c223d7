using System.Collections.Concurrent;
using System.Management.Automation;
using Microsoft.Extensions.Logging;

namespace AwsTunnel.PowerShell.Logging;

/// <summary>
/// Where one session's engine log records go. While the Start cmdlet waits for the
/// session to start, records queue up and the cmdlet writes them on the pipeline thread
/// (so <c>-Verbose</c> shows the handshake); once the session is a job they go straight
/// into the job's Verbose/Debug/Warning/Error streams.
/// </summary>
internal sealed class SessionLog
{
    private readonly object _gate = new();
    private readonly ConcurrentQueue<LogEntry> _pending = new();
    private readonly List<LogEntry> _beforeRedirect = new();
    private readonly AutoResetEvent _arrived = new(false);
    private Action<LogEntry>? _target;

    public SessionLog(LogLevel minimumLevel) => MinimumLevel = minimumLevel;

    /// <summary>Records below this level are dropped (Trace would flood the job on the data path).</summary>
    public LogLevel MinimumLevel { get; }

    /// <summary>Signalled when a record is queued for the cmdlet.</summary>
    public WaitHandle Arrived => _arrived;

    /// <summary>An <see cref="ILoggerFactory"/> for <c>TunnelOptions.LoggerFactory</c>.</summary>
    public ILoggerFactory CreateFactory() => new ProviderLoggerFactory(new JobLoggerProvider(this));

    public void Write(LogEntry entry)
    {
        Action<LogEntry>? target;
        lock (_gate)
        {
            target = _target;
            if (target is null)
            {
                _pending.Enqueue(entry);
                _beforeRedirect.Add(entry);
            }
        }

        if (target is null)
        {
            _arrived.Set();
        }
        else
        {
            target(entry);
        }
    }

    /// <summary>
    /// Waits for <paramref name="start"/> on the pipeline thread, writing the records that arrive
    /// meanwhile (WriteVerbose and friends may only be called from this thread); rethrows its failure.
    /// </summary>
    public void RelayUntil(Cmdlet cmdlet, Task start)
    {
        var wakeUps = new[] { ((IAsyncResult)start).AsyncWaitHandle, Arrived };
        while (!start.IsCompleted)
        {
            WaitHandle.WaitAny(wakeUps);
            Drain(cmdlet);
        }

        Drain(cmdlet);
        start.GetAwaiter().GetResult();
    }

    /// <summary>Adds one record to a job's stream for its level (Debug, Verbose, Warning, Error).</summary>
    public static void WriteToJob(Job job, LogEntry entry, string errorId)
    {
        switch (entry.Level)
        {
            case LogLevel.Trace or LogLevel.Debug:
                job.Debug.Add(new DebugRecord(entry.Message));
                break;
            case LogLevel.Information:
                job.Verbose.Add(new VerboseRecord(entry.Message));
                break;
            case LogLevel.Warning:
                job.Warning.Add(new WarningRecord(entry.Message));
                break;
            default:
                job.Error.Add(new ErrorRecord(new TunnelSessionException(null, entry.Message), errorId, ErrorCategory.NotSpecified, job.Name));
                break;
        }
    }

    /// <summary>Writes queued records through the cmdlet; call on the pipeline thread only.</summary>
    public void Drain(Cmdlet cmdlet)
    {
        while (_pending.TryDequeue(out var entry))
        {
            switch (entry.Level)
            {
                case LogLevel.Trace or LogLevel.Debug:
                    cmdlet.WriteDebug(entry.Message);
                    break;
                case LogLevel.Information:
                    cmdlet.WriteVerbose(entry.Message);
                    break;
                case LogLevel.Warning:
                    cmdlet.WriteWarning(entry.Message);
                    break;
                default:
                    // Start errors surface as the cmdlet's terminating error; the detail stays verbose.
                    cmdlet.WriteVerbose("ERROR: " + entry.Message);
                    break;
            }
        }
    }

    /// <summary>
    /// From now on records go to <paramref name="target"/> (the job's streams). The records of
    /// the start go there too, so the job's log is complete.
    /// </summary>
    public void Redirect(Action<LogEntry> target)
    {
        lock (_gate)
        {
            _pending.Clear();
            foreach (var entry in _beforeRedirect)
            {
                target(entry);
            }

            _beforeRedirect.Clear();
            _target = target;
        }
    }
}

/// <summary>One formatted engine log record.</summary>
internal readonly record struct LogEntry(LogLevel Level, string Category, string Message, DateTime Time);
