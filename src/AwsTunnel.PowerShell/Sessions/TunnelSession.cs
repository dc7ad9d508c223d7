using System.Management.Automation;
using AwsTunnel.Engine.Protocol;
using AwsTunnel.Engine.Tunnel;
using AwsTunnel.PowerShell.Logging;
using AwsTunnel.PowerShell.Sessions;
using Microsoft.Extensions.Logging;

namespace AwsTunnel.PowerShell;

/// <summary>
/// A running local proxy session, as a PowerShell job. <c>Get-Job</c> lists it, <c>Stop-Job</c>
/// stops the tunnel cleanly, <c>Wait-Job</c> returns when the tunnel ends, <c>Receive-Job</c>
/// returns its stream open/close events and engine log records (Verbose, Debug, Warning,
/// Error), and <c>Remove-Job</c> disposes it.
/// Job state: Running while connected or reconnecting; Completed when the tunnel was closed
/// by the service; Stopped after Stop-Job or Stop-TunnelSession; Failed when the session ended
/// on an error (the reason is in the Error stream and JobStateInfo.Reason).
/// </summary>
public sealed class TunnelSession : ModuleJob
{
    /// <summary>The PSJobTypeName of every session.</summary>
    public const string JobTypeName = "TunnelSession";

    private static readonly TimeSpan DisposeBudget = TimeSpan.FromSeconds(10);

    private readonly object _stateGate = new();
    private readonly TunnelClient _client;
    private readonly SessionLog _log;
    private readonly RunspaceScope _scope;
    private Dictionary<string, int> _ports = new(StringComparer.OrdinalIgnoreCase);
    private Task _watch = Task.CompletedTask;
    private TunnelEnd? _end;
    private int _stopRequested;
    private int _disposed;

    internal TunnelSession(TunnelClient client, SessionLog log, RunspaceScope scope, string command, string? name, string? tunnelId)
        : base(command, name)
    {
        _client = client;
        _log = log;
        _scope = scope;
        TunnelId = tunnelId;
        PSJobTypeName = JobTypeName;
        _client.ConnectionChanged += OnConnectionChanged;
    }

    /// <summary>Source or destination.</summary>
    public TunnelMode Mode => _client.Mode;

    /// <summary>The tunneling service this session connects to.</summary>
    public string Endpoint => _client.ServiceUri.ToString();

    /// <summary>The tunnel's id, when it came with the input (TunnelId or TunnelArn).</summary>
    public string? TunnelId { get; }

    /// <summary>The name of the tunnel agent (Start-TunnelAgent) that started this session; empty for a session started directly.</summary>
    public string? Agent { get; internal init; }

    /// <summary>The engine's view: Connecting, Connected, Reconnecting, Stopping, Ended.</summary>
    public TunnelState TunnelState => _client.State;

    /// <summary>The negotiated protocol version.</summary>
    public ProtocolVersion? Protocol => _client.Protocol;

    /// <summary>The service's channel-id of the current WebSocket (quote it in support cases).</summary>
    public string? ChannelId => _client.ChannelId;

    /// <summary>The services the tunnel announced; empty for a V1 tunnel.</summary>
    public string[] ServiceIds => _client.ServiceIds.ToArray();

    /// <summary>The local mapping per service: the listening port (source) or the target (destination).</summary>
    public string[] Services => _client.Services.Values.Select(m => m.ToString()).ToArray();

    /// <summary>Source: the bound port per service id, e.g. <c>$s.Ports['SSH1']</c>. Empty for a destination.</summary>
    public IDictionary<string, int> Ports => _ports;

    /// <summary>How many times the WebSocket was reconnected.</summary>
    public int Reconnects => _client.Reconnects;

    /// <summary>Round-trip time to the service (the connection's smoothed RTT); empty where the platform does not report it.</summary>
    public TimeSpan? Latency => _client.Latency;

    /// <summary>When the session first connected.</summary>
    public DateTimeOffset? ConnectedAt => _client.ConnectedAt;

    /// <summary>Bytes sent over the current WebSocket.</summary>
    public long BytesSent => _client.BytesSent;

    /// <summary>Bytes received over the current WebSocket.</summary>
    public long BytesReceived => _client.BytesReceived;

    /// <summary>Live local connections right now.</summary>
    public int StreamCount => _client.Connections().Count;

    /// <summary>Why the session ended; null while it runs.</summary>
    public TunnelEndReason? EndReason => _end?.Reason;

    /// <summary>How the session ended, in words; null while it runs.</summary>
    public string? EndMessage => _end?.Message;

    /// <inheritdoc />
    public override string StatusMessage => _end?.Message ?? _client.State.ToString();

    /// <inheritdoc />
    public override string Location => _client.ServiceUri.Authority;

    /// <summary>One object per live local connection.</summary>
    public TunnelStream[] GetStreams() => _client.Connections().Select(c => new TunnelStream(this, c)).ToArray();

    /// <inheritdoc />
    public override string ToString() => $"{Name} ({Mode} {Endpoint}, {JobStateInfo.State})";

    /// <summary>Called by the Start cmdlet once the engine reports the session ready.</summary>
    internal void OnStarted()
    {
        _ports = new Dictionary<string, int>(_client.Ports, StringComparer.OrdinalIgnoreCase);
        PSBeginTime = DateTime.Now;
        _log.Redirect(WriteLog);
        SetJobState(JobState.Running);
        _watch = WatchAsync();
    }

    /// <summary>
    /// Forgets a session whose start failed. The engine has already released everything, and
    /// its client must not be stopped again, so this skips the normal dispose.
    /// </summary>
    internal void DiscardUnstarted()
    {
        Interlocked.Exchange(ref _disposed, 1);
        _client.ConnectionChanged -= OnConnectionChanged;
        base.Dispose(true);
    }

    /// <summary>Stops the tunnel; returns when the job has reached its final state.</summary>
    internal override async Task StopAsync()
    {
        Interlocked.Exchange(ref _stopRequested, 1);
        lock (_stateGate)
        {
            if (IsFinished || JobStateInfo.State == JobState.NotStarted)
            {
                return;
            }

            if (JobStateInfo.State != JobState.Stopping)
            {
                SetJobState(JobState.Stopping);
            }
        }

        await _client.StopAsync().ConfigureAwait(false);
        await _watch.ConfigureAwait(false);
    }

    private protected override string Kind => "tunnel session";

    private protected override string StartedBy => "Start-TunnelSource or Start-TunnelDestination";

    private protected override string StoppedBy => "Stop-TunnelSession";

    /// <summary>Stops the tunnel if it still runs and releases everything.</summary>
    protected override void Dispose(bool disposing)
    {
        if (disposing && Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _client.ConnectionChanged -= OnConnectionChanged;
            _scope.Remove(this);
            // Dispose is synchronous by contract; the engine's stop has its own short budgets.
            Task.Run(async () =>
            {
                await StopAsync().ConfigureAwait(false);
                await _client.DisposeAsync().ConfigureAwait(false);
            }).Wait(DisposeBudget);
        }

        base.Dispose(disposing);
    }

    /// <summary>The runspace's registry this session belongs to.</summary>
    internal RunspaceScope Scope => _scope;

    /// <summary>True once disposed (Remove-Job, runspace closed).</summary>
    internal bool IsDisposed => Volatile.Read(ref _disposed) != 0;

    private bool IsFinished => JobStateInfo.State is JobState.Completed or JobState.Failed or JobState.Stopped;

    private async Task WatchAsync()
    {
        var end = await _client.Completion.ConfigureAwait(false);
        _end = end;
        PSEndTime = DateTime.Now;
        lock (_stateGate)
        {
            if (end.Reason == TunnelEndReason.Stopped || Volatile.Read(ref _stopRequested) == 1)
            {
                SetJobState(JobState.Stopped);
            }
            else if (end.IsSuccess)
            {
                SetJobState(JobState.Completed);
            }
            else
            {
                var failure = new TunnelSessionException(end.Reason, end.Message);
                Error.Add(new ErrorRecord(failure, "Session" + end.Reason, ErrorCategory.ConnectionError, Name));
                SetJobState(JobState.Failed);
            }
        }
    }

    private void OnConnectionChanged(object? sender, ConnectionEvent e)
    {
        if (Volatile.Read(ref _disposed) == 0)
        {
            Output.Add(PSObject.AsPSObject(new TunnelStreamEvent(this, e)));
        }
    }

    private void WriteLog(LogEntry entry)
    {
        if (Volatile.Read(ref _disposed) != 0)
        {
            return;
        }

        SessionLog.WriteToJob(this, entry, "EngineError");
    }
}

/// <summary>A session failed or the engine reported an error; the message says why (never a token).</summary>
public sealed class TunnelSessionException : Exception
{
    /// <summary>Creates the exception.</summary>
    public TunnelSessionException(TunnelEndReason? reason, string message)
        : base(message) => Reason = reason;

    /// <summary>Why the session ended, when this reports the end.</summary>
    public TunnelEndReason? Reason { get; }
}
