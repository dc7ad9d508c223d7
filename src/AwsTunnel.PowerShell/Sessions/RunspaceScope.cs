using System.Collections.Concurrent;
using System.Management.Automation.Runspaces;
using AwsTunnel.PowerShell.LocalService;

namespace AwsTunnel.PowerShell.Sessions;

/// <summary>
/// What the module holds for one runspace: its tunnel sessions (the job source adapter and
/// Get-TunnelSession read the same list, so they always agree) and its local tunneling
/// services, the first of which is the default for New-LocalTunnel. Jobs in PowerShell belong
/// to a runspace; so do these. When the runspace closes, everything in it is stopped.
/// </summary>
internal sealed class RunspaceScope
{
    private static readonly ConcurrentDictionary<Guid, RunspaceScope> s_states = new();
    private static readonly RunspaceScope s_noRunspace = new(null);

    private readonly ConcurrentDictionary<Guid, TunnelSession> _sessions = new();
    private readonly ConcurrentDictionary<Guid, TunnelAgentJob> _agents = new();
    private readonly List<LocalTunnelServiceInfo> _services = new();

    private RunspaceScope(Runspace? runspace)
    {
        if (runspace is not null)
        {
            runspace.StateChanged += OnRunspaceStateChanged;
        }
    }

    /// <summary>The state of the runspace running the current pipeline.</summary>
    public static RunspaceScope Current
    {
        get
        {
            var runspace = Runspace.DefaultRunspace;
            return runspace is null ? s_noRunspace : s_states.GetOrAdd(runspace.InstanceId, _ => new RunspaceScope(runspace));
        }
    }

    /// <summary>Sessions in the order they were started.</summary>
    public IReadOnlyList<TunnelSession> Sessions => _sessions.Values.OrderBy(s => s.Id).ToArray();

    public void Add(TunnelSession session) => _sessions.TryAdd(session.InstanceId, session);

    public bool Remove(TunnelSession session) => _sessions.TryRemove(session.InstanceId, out _);

    /// <summary>Tunnel agents (Start-TunnelAgent) in the order they were started.</summary>
    public IReadOnlyList<TunnelAgentJob> Agents => _agents.Values.OrderBy(a => a.Id).ToArray();

    public void AddAgent(TunnelAgentJob agent) => _agents.TryAdd(agent.InstanceId, agent);

    public bool RemoveAgent(TunnelAgentJob agent) => _agents.TryRemove(agent.InstanceId, out _);

    /// <summary>Running local services, the default first.</summary>
    public IReadOnlyList<LocalTunnelServiceInfo> LocalServices
    {
        get { lock (_services) { return _services.ToArray(); } }
    }

    /// <summary>The service New-LocalTunnel uses when none is given.</summary>
    public LocalTunnelServiceInfo? DefaultLocalService
    {
        get { lock (_services) { return _services.FirstOrDefault(); } }
    }

    public void AddLocalService(LocalTunnelServiceInfo service)
    {
        lock (_services)
        {
            _services.Add(service);
        }
    }

    public void RemoveLocalService(LocalTunnelServiceInfo service)
    {
        lock (_services)
        {
            _services.Remove(service);
        }
    }

    private void OnRunspaceStateChanged(object? sender, RunspaceStateEventArgs e)
    {
        if (e.RunspaceStateInfo.State is not (System.Management.Automation.Runspaces.RunspaceState.Closing or System.Management.Automation.Runspaces.RunspaceState.Closed or System.Management.Automation.Runspaces.RunspaceState.Broken))
        {
            return;
        }

        if (sender is Runspace runspace)
        {
            runspace.StateChanged -= OnRunspaceStateChanged;
            s_states.TryRemove(runspace.InstanceId, out _);
        }

        // Agents first (they would start new sessions), then sessions, which own sockets and
        // listeners: release them with the runspace, all at once (each stop may take a second),
        // then the local services they were connected to.
        Task.WaitAll(_agents.Values.Select(a => Task.Run(a.Dispose)).ToArray(), TimeSpan.FromSeconds(15));
        Task.WaitAll(_sessions.Values.Select(s => Task.Run(s.Dispose)).ToArray(), TimeSpan.FromSeconds(15));
        foreach (var service in LocalServices)
        {
            service.StopBlocking();
        }
    }
}
