using System.Management.Automation;
using System.Runtime.CompilerServices;
using AwsTunnel.Engine.Agent;
using AwsTunnel.PowerShell.Logging;
using Microsoft.Extensions.Logging;

namespace AwsTunnel.PowerShell.Sessions;

/// <summary>
/// A running tunnel agent (Start-TunnelAgent), as a PowerShell job. Each destination it starts
/// is a <see cref="TunnelSession"/>: a child job of the agent, listed by Get-TunnelSession (its
/// Agent property names this job) and stopped with the agent. <c>Receive-Job</c> returns the
/// sessions as they start and the agent's log (Verbose, Warning, Error); <c>Stop-Job</c>
/// disconnects from the broker and stops every destination; <c>Remove-Job</c> disposes it.
/// Job state: Running until stopped, then Stopped.
/// </summary>
public sealed class TunnelAgentJob : ModuleJob
{
    /// <summary>The PSJobTypeName of every agent.</summary>
    public const string JobTypeName = "TunnelAgent";

    private static readonly TimeSpan DisposeBudget = TimeSpan.FromSeconds(15);

    private readonly SessionLog _log;
    private readonly RunspaceScope _scope;
    private readonly int _maxTunnels;
    // A destination's log is made before it starts and belongs to its session once it has; a
    // destination that never starts leaves its log to the collector.
    private readonly ConditionalWeakTable<TunnelNotification, SessionLog> _destinationLogs = new();
    private readonly List<TunnelSession> _children = new();
    private int _disposed;

    internal TunnelAgentJob(AgentOptions options, SessionLog log, RunspaceScope scope, string command, string name)
        : base(command, name)
    {
        _log = log;
        _scope = scope;
        _maxTunnels = options.MaxTunnels;
        PSJobTypeName = JobTypeName;
        Agent = new TunnelAgent(options with
        {
            LoggerFactory = log.CreateFactory(),
            DestinationLoggerFactory = CreateDestinationLog,
        });
        Agent.TunnelStarted += OnTunnelStarted;
    }

    internal TunnelAgent Agent { get; }

    /// <summary>The thing whose notifications are served.</summary>
    public string ThingName => Agent.ThingName;

    /// <summary>The MQTT broker, as a URI.</summary>
    public string Broker => Agent.Broker.ToString();

    /// <summary>The topic watched: $aws/things/THING/tunnels/notify.</summary>
    public string NotifyTopic => Agent.NotifyTopic;

    /// <summary>True while connected to the broker and subscribed.</summary>
    public bool BrokerConnected => Agent.IsBrokerConnected;

    /// <summary>How many times the topic was subscribed (one more after every broker reconnect).</summary>
    public int Subscriptions => Agent.Subscriptions;

    /// <summary>Notifications received.</summary>
    public int NotificationsReceived => Agent.NotificationsReceived;

    /// <summary>Notifications skipped (unusable, unknown services, over the cap, failed starts); the Warning stream says why.</summary>
    public int NotificationsSkipped => Agent.NotificationsSkipped;

    /// <summary>Tunnels served now.</summary>
    public int TunnelCount => Agent.Tunnels.Count;

    /// <summary>The cap on tunnels served at once.</summary>
    public int MaxTunnels => _maxTunnels;

    /// <summary>Every destination session this agent started, running or ended (also its ChildJobs).</summary>
    public TunnelSession[] Sessions
    {
        get { lock (_children) { return _children.ToArray(); } }
    }

    /// <inheritdoc />
    public override string StatusMessage =>
        JobStateInfo.State == JobState.Running ? $"{(BrokerConnected ? "subscribed" : "reconnecting to the broker")}, {TunnelCount} tunnels" : JobStateInfo.State.ToString();

    /// <inheritdoc />
    public override string Location => Agent.Broker.Host;

    /// <inheritdoc />
    public override string ToString() => $"{Name} (agent for {ThingName} on {Broker}, {JobStateInfo.State})";

    internal RunspaceScope Scope => _scope;

    internal bool IsDisposed => Volatile.Read(ref _disposed) != 0;

    /// <summary>Called by Start-TunnelAgent once the agent is subscribed.</summary>
    internal void OnStarted()
    {
        PSBeginTime = DateTime.Now;
        _log.Redirect(WriteLog);
        SetJobState(JobState.Running);
    }

    /// <summary>Disconnects and stops every destination; returns when they have all ended.</summary>
    internal override async Task StopAsync()
    {
        lock (_children)
        {
            if (JobStateInfo.State is not JobState.Running)
            {
                return;
            }

            SetJobState(JobState.Stopping);
        }

        await Agent.StopAsync().ConfigureAwait(false);
        foreach (var session in Sessions)
        {
            // Each child reaches its final job state from its own watch; stopping again waits for it.
            await session.StopAsync().ConfigureAwait(false);
        }

        PSEndTime = DateTime.Now;
        SetJobState(JobState.Stopped);
    }

    private protected override string Kind => "tunnel agent";

    private protected override string StartedBy => "Start-TunnelAgent";

    private protected override string StoppedBy => "Stop-Job";

    /// <summary>Stops the agent if it still runs, and releases it and its sessions.</summary>
    protected override void Dispose(bool disposing)
    {
        if (disposing && Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            Agent.TunnelStarted -= OnTunnelStarted;
            _scope.RemoveAgent(this);
            Task.Run(StopAsync).Wait(DisposeBudget);
            foreach (var session in Sessions)
            {
                session.Dispose();
            }
        }

        base.Dispose(disposing);
    }

    private ILoggerFactory CreateDestinationLog(TunnelNotification notification)
    {
        var log = new SessionLog(LogLevel.Debug);
        _destinationLogs.AddOrUpdate(notification, log);
        return log.CreateFactory();
    }

    private void OnTunnelStarted(object? sender, AgentTunnel tunnel)
    {
        if (!_destinationLogs.TryGetValue(tunnel.Notification, out var log))
        {
            log = new SessionLog(LogLevel.Debug);
        }

        string services = string.Join("+", tunnel.Services);
        var session = new TunnelSession(tunnel.Client, log, _scope,
            $"Start-TunnelAgent -ThingName {ThingName}: {services}", $"{Name}:{services}", tunnel.TunnelId)
        {
            Agent = Name,
        };
        session.OnStarted();
        lock (_children)
        {
            _children.Add(session);
            ChildJobs.Add(session);
        }

        _scope.Add(session);
        if (!IsDisposed)
        {
            Output.Add(PSObject.AsPSObject(session));
        }
    }

    private void WriteLog(LogEntry entry)
    {
        if (IsDisposed)
        {
            return;
        }

        SessionLog.WriteToJob(this, entry, "AgentError");
    }
}
