using System.ComponentModel;
using System.Management.Automation;

namespace AwsTunnel.PowerShell.Sessions;

/// <summary>
/// What the module's jobs (tunnel sessions, tunnel agents) share as PowerShell jobs: streams
/// that never block a reader, Stop-Job through their own stop, and clear errors for what a
/// running tunnel cannot do (start again, suspend, resume, unblock).
/// </summary>
public abstract class ModuleJob : Job2
{
    private protected ModuleJob(string command, string? name)
        : base(command, name)
    {
        Output = new PSDataCollection<PSObject> { EnumeratorNeverBlocks = true };
        Error = new PSDataCollection<ErrorRecord> { EnumeratorNeverBlocks = true };
        Progress = new PSDataCollection<ProgressRecord> { EnumeratorNeverBlocks = true };
        Verbose = new PSDataCollection<VerboseRecord> { EnumeratorNeverBlocks = true };
        Debug = new PSDataCollection<DebugRecord> { EnumeratorNeverBlocks = true };
        Warning = new PSDataCollection<WarningRecord> { EnumeratorNeverBlocks = true };
        Information = new PSDataCollection<InformationRecord> { EnumeratorNeverBlocks = true };
    }

    /// <summary>What this job is, in words ("tunnel session"), for the not-supported errors.</summary>
    private protected abstract string Kind { get; }

    /// <summary>The cmdlets that start this kind of job, for the not-supported errors.</summary>
    private protected abstract string StartedBy { get; }

    /// <summary>How a user stops this kind of job, for the not-supported errors.</summary>
    private protected abstract string StoppedBy { get; }

    /// <summary>Stops the job; returns when it has reached its final state.</summary>
    internal abstract Task StopAsync();

    /// <inheritdoc />
    public override bool HasMoreData =>
        Output.Count > 0 || Error.Count > 0 || Verbose.Count > 0 || Debug.Count > 0 || Warning.Count > 0 ||
        Progress.Count > 0 || Information.Count > 0;

    /// <summary>These jobs cannot be started again; they start in their Start cmdlet.</summary>
    public override void StartJob() => throw NotSupported("start", StartedBy);

    /// <inheritdoc cref="StartJob" />
    public override void StartJobAsync() => throw NotSupported("start", StartedBy);

    /// <summary>Stops the job and everything it holds open.</summary>
    public override void StopJob() => StopAsync().GetAwaiter().GetResult();

    /// <inheritdoc cref="StopJob()" />
    public override void StopJob(bool force, string reason) => StopJob();

    /// <summary>Stops in the background and raises StopJobCompleted (what Stop-Job uses).</summary>
    public override void StopJobAsync() => _ = StopInBackgroundAsync();

    /// <inheritdoc cref="StopJobAsync()" />
    public override void StopJobAsync(bool force, string reason) => StopJobAsync();

    /// <summary>Not supported: a tunnel cannot be suspended.</summary>
    public override void SuspendJob() => throw NotSupported("suspend", StoppedBy);

    /// <inheritdoc cref="SuspendJob()" />
    public override void SuspendJobAsync() => SuspendJob();

    /// <inheritdoc cref="SuspendJob()" />
    public override void SuspendJob(bool force, string reason) => SuspendJob();

    /// <inheritdoc cref="SuspendJob()" />
    public override void SuspendJobAsync(bool force, string reason) => SuspendJob();

    /// <inheritdoc cref="SuspendJob()" />
    public override void ResumeJob() => throw NotSupported("resume", StartedBy);

    /// <inheritdoc cref="SuspendJob()" />
    public override void ResumeJobAsync() => ResumeJob();

    /// <summary>Not supported: these jobs never block.</summary>
    public override void UnblockJob() => throw NotSupported("unblock", StoppedBy);

    /// <inheritdoc cref="UnblockJob" />
    public override void UnblockJobAsync() => UnblockJob();

    private async Task StopInBackgroundAsync()
    {
        Exception? error = null;
        try
        {
            await StopAsync().ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            error = ex;
        }

        try
        {
            OnStopJobCompleted(new AsyncCompletedEventArgs(error, false, null));
        }
        catch (Exception)
        {
            // A subscriber's failure (e.g. Remove-Job's cleanup) must not become an unobserved task exception.
        }
    }

    private PSNotSupportedException NotSupported(string verb, string instead) =>
        new($"A {Kind} cannot {verb} as a job. Use {instead}.");
}
