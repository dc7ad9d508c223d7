using System.Collections.Concurrent;
using System.Management.Automation;

namespace AwsTunnel.PowerShell.Sessions;

/// <summary>
/// Makes tunnel sessions and tunnel agents first-class PowerShell jobs: the job manager asks this adapter for
/// jobs when Get-Job, Receive-Job, Wait-Job, Stop-Job or Remove-Job run. Each runspace's job
/// manager makes its own adapter, so the adapter keeps the sessions handed to it itself:
/// the job manager also calls it from other threads (Remove-Job -Force finishes on the thread
/// that completed the stop), where the current runspace is unknown. (One adapter for both kinds:
/// PowerShell instantiates every public adapter type it finds, so there is no shared base.)
/// </summary>
public sealed class TunnelSessionSourceAdapter : JobSourceAdapter
{
    /// <summary>The key under which the Start cmdlets hand a new session to <see cref="NewJob(JobInvocationInfo)"/>.</summary>
    internal const string SessionParameter = "TunnelSession";

    /// <summary>The key under which Start-TunnelAgent hands a new agent to <see cref="NewJob(JobInvocationInfo)"/>.</summary>
    internal const string AgentParameter = "TunnelAgent";

    private readonly ConcurrentDictionary<Guid, Job2> _sessions = new();

    /// <summary>Created by the job manager.</summary>
    public TunnelSessionSourceAdapter() => Name = nameof(TunnelSessionSourceAdapter);

    private IEnumerable<Job2> Sessions => _sessions.Values.Where(s => !IsDisposed(s)).OrderBy(s => s.Id);

    /// <summary>Registers a session or agent that a Start cmdlet has already started.</summary>
    public override Job2 NewJob(JobInvocationInfo specification)
    {
        var job = specification.Parameters
            .SelectMany(set => set)
            .Where(p => p.Name is SessionParameter or AgentParameter)
            .Select(p => p.Value)
            .FirstOrDefault(v => v is TunnelSession or TunnelAgentJob) as Job2
            ?? throw new PSArgumentException("Tunnel sessions are created by Start-TunnelSource and Start-TunnelDestination, agents by Start-TunnelAgent.");
        _sessions.TryAdd(job.InstanceId, job);
        switch (job)
        {
            case TunnelSession session:
                session.Scope.Add(session);
                break;
            case TunnelAgentJob agent:
                agent.Scope.AddAgent(agent);
                break;
        }

        return job;
    }

    /// <inheritdoc />
    public override IList<Job2> GetJobs() => Sessions.ToList<Job2>();

    /// <inheritdoc />
    public override IList<Job2> GetJobsByName(string name, bool recurse)
    {
        var pattern = new WildcardPattern(name, WildcardOptions.IgnoreCase);
        return Sessions.Where(s => pattern.IsMatch(s.Name)).ToList<Job2>();
    }

    /// <inheritdoc />
    public override IList<Job2> GetJobsByCommand(string command, bool recurse)
    {
        var pattern = new WildcardPattern(command, WildcardOptions.IgnoreCase);
        return Sessions.Where(s => pattern.IsMatch(s.Command)).ToList<Job2>();
    }

    /// <inheritdoc />
    public override Job2? GetJobByInstanceId(Guid instanceId, bool recurse) => Sessions.FirstOrDefault(s => s.InstanceId == instanceId);

    /// <inheritdoc />
    public override Job2? GetJobBySessionId(int id, bool recurse) => Sessions.FirstOrDefault(s => s.Id == id);

    /// <inheritdoc />
    public override IList<Job2> GetJobsByState(JobState state, bool recurse) =>
        Sessions.Where(s => s.JobStateInfo.State == state).ToList<Job2>();

    private static bool IsDisposed(Job2 job) => job switch
    {
        TunnelSession session => session.IsDisposed,
        TunnelAgentJob agent => agent.IsDisposed,
        _ => true,
    };

    /// <summary>Filters are for job types with stored definitions; sessions have none.</summary>
    public override IList<Job2> GetJobsByFilter(Dictionary<string, object> filter, bool recurse) => new List<Job2>();

    /// <summary>Remove-Job: stops the session if it still runs, forgets it and releases its sockets.</summary>
    public override void RemoveJob(Job2 job)
    {
        if (!_sessions.TryRemove(job.InstanceId, out _))
        {
            return;
        }

        switch (job)
        {
            case TunnelSession session:
                session.Scope.Remove(session);
                session.Dispose();
                break;
            case TunnelAgentJob agent:
                agent.Scope.RemoveAgent(agent);
                agent.Dispose();
                break;
        }
    }
}
