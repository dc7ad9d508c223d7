using System.Management.Automation;
using AwsTunnel.PowerShell.Sessions;

namespace AwsTunnel.PowerShell.Commands;

/// <summary>
/// <para type="synopsis">Stops tunnel sessions cleanly.</para>
/// <para type="description">Stop-TunnelSession resets the open connections of each session, closes its WebSocket normally and releases its ports; the job then shows Stopped. Sessions are chosen by pipeline object, -Name, -Id or -All, and stopped in parallel. The jobs stay in the job list (Receive-Job still works) until Remove-Job.</para>
/// </summary>
/// <example>
/// <code>$session | Stop-TunnelSession</code>
/// <para>Stops one session.</para>
/// </example>
/// <example>
/// <code>Stop-TunnelSession -All -PassThru | Remove-Job</code>
/// <para>Stops every session of this PowerShell session and removes the jobs.</para>
/// </example>
/// <example>
/// <code>Stop-TunnelSession -Name 'fleet-*' -WhatIf</code>
/// <para>Shows which sessions would be stopped.</para>
/// </example>
[Cmdlet(VerbsLifecycle.Stop, "TunnelSession", SupportsShouldProcess = true, DefaultParameterSetName = ByObject)]
[OutputType(typeof(TunnelSession))]
public sealed class StopTunnelSessionCommand : PSCmdlet
{
    private const string ByObject = "Session";
    private const string ByName = "Name";
    private const string ById = "Id";
    private const string Everything = "All";

    private readonly List<TunnelSession> _toStop = new();

    /// <summary>
    /// <para type="description">The sessions to stop (from Start-TunnelSource, Start-TunnelDestination or Get-TunnelSession).</para>
    /// </summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ParameterSetName = ByObject)]
    [Alias("Session")]
    public TunnelSession[] InputObject { get; set; } = Array.Empty<TunnelSession>();

    /// <summary>
    /// <para type="description">Names of the sessions to stop; wildcards allowed.</para>
    /// </summary>
    [Parameter(Mandatory = true, ParameterSetName = ByName)]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string[] Name { get; set; } = Array.Empty<string>();

    /// <summary>
    /// <para type="description">Ids of the sessions to stop.</para>
    /// </summary>
    [Parameter(Mandatory = true, ParameterSetName = ById)]
    public int[] Id { get; set; } = Array.Empty<int>();

    /// <summary>
    /// <para type="description">Stop every session of this PowerShell session.</para>
    /// </summary>
    [Parameter(Mandatory = true, ParameterSetName = Everything)]
    public SwitchParameter All { get; set; }

    /// <summary>
    /// <para type="description">Return the stopped sessions.</para>
    /// </summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    /// <inheritdoc />
    protected override void ProcessRecord()
    {
        var sessions = RunspaceScope.Current.Sessions;
        IEnumerable<TunnelSession> chosen = ParameterSetName switch
        {
            ByName => SessionSelection.Select(this, sessions, Name, null),
            ById => SessionSelection.Select(this, sessions, null, Id),
            Everything => sessions,
            _ => InputObject,
        };

        foreach (var session in chosen)
        {
            if (!_toStop.Contains(session) && ShouldProcess($"{session.Name} ({session.Mode} {session.Endpoint})", "Stop tunnel session"))
            {
                _toStop.Add(session);
            }
        }
    }

    /// <inheritdoc />
    protected override void EndProcessing()
    {
        // Stopping takes up to a second or two per session: do them together.
        Task.WhenAll(_toStop.Select(s => s.StopAsync())).GetAwaiter().GetResult();
        if (PassThru)
        {
            WriteObject(_toStop, enumerateCollection: true);
        }
    }
}
