using System.Management.Automation;
using AwsTunnel.Engine.Protocol;
using AwsTunnel.PowerShell.Sessions;

namespace AwsTunnel.PowerShell.Commands;

/// <summary>
/// <para type="synopsis">Lists the tunnel sessions of this PowerShell session.</para>
/// <para type="description">Get-TunnelSession returns the TunnelSession jobs started by Start-TunnelSource and Start-TunnelDestination in this runspace: their state, mode, endpoint, protocol, services and bound ports, channel id and reconnects. Filters combine: a session must match all that are given. A -Name without wildcards or an -Id that matches nothing is reported as an error.</para>
/// </summary>
/// <example>
/// <code>Get-TunnelSession</code>
/// <para>Lists every session, running or ended, in a table.</para>
/// </example>
/// <example>
/// <code>Get-TunnelSession -Mode Source -State Running | Select-Object Name, Ports</code>
/// <para>Shows the local ports of every running source.</para>
/// </example>
[Cmdlet(VerbsCommon.Get, "TunnelSession")]
[OutputType(typeof(TunnelSession))]
public sealed class GetTunnelSessionCommand : PSCmdlet
{
    /// <summary>
    /// <para type="description">Session names; wildcards allowed.</para>
    /// </summary>
    [Parameter(Position = 0)]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string[]? Name { get; set; }

    /// <summary>
    /// <para type="description">Session (job) ids, as shown by Get-Job.</para>
    /// </summary>
    [Parameter]
    public int[]? Id { get; set; }

    /// <summary>
    /// <para type="description">Only sources or only destinations.</para>
    /// </summary>
    [Parameter]
    public TunnelMode? Mode { get; set; }

    /// <summary>
    /// <para type="description">Only sessions in this job state: Running, Completed, Failed or Stopped.</para>
    /// </summary>
    [Parameter]
    public JobState? State { get; set; }

    /// <inheritdoc />
    protected override void ProcessRecord()
    {
        var selected = SessionSelection.Select(this, RunspaceScope.Current.Sessions, Name, Id)
            .Where(s => Mode is null || s.Mode == Mode)
            .Where(s => State is null || s.JobStateInfo.State == State);
        foreach (var session in selected)
        {
            WriteObject(session);
        }
    }
}
