using System.Management.Automation;
using AwsTunnel.PowerShell.Completers;
using AwsTunnel.PowerShell.Sessions;

namespace AwsTunnel.PowerShell.Commands;

/// <summary>
/// <para type="synopsis">Lists the live connections carried by tunnel sessions.</para>
/// <para type="description">Get-TunnelStream emits one TunnelStream object per live local connection: its session, service id, stream id, connection id, local and remote end points, bytes each way, start time and state. It reads the sessions piped to it, or every session of this PowerShell session.</para>
/// </summary>
/// <example>
/// <code>Get-TunnelStream</code>
/// <para>Lists every live connection of every session.</para>
/// </example>
/// <example>
/// <code>Get-TunnelSession -Name web | Get-TunnelStream -ServiceId HTTP | Measure-Object</code>
/// <para>Counts the HTTP connections going through the session named web.</para>
/// </example>
[Cmdlet(VerbsCommon.Get, "TunnelStream")]
[OutputType(typeof(TunnelStream))]
public sealed class GetTunnelStreamCommand : PSCmdlet
{
    /// <summary>
    /// <para type="description">The sessions to read; default: all sessions of this PowerShell session.</para>
    /// </summary>
    [Parameter(Position = 0, ValueFromPipeline = true)]
    [Alias("Session")]
    public TunnelSession[]? InputObject { get; set; }

    /// <summary>
    /// <para type="description">Only connections of these services; wildcards allowed.</para>
    /// </summary>
    [Parameter]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(ServiceIdCompleter))]
    public string[]? ServiceId { get; set; }

    /// <inheritdoc />
    protected override void ProcessRecord()
    {
        var patterns = ServiceId?.Select(p => new WildcardPattern(p, WildcardOptions.IgnoreCase)).ToArray();
        foreach (var session in InputObject ?? RunspaceScope.Current.Sessions.ToArray())
        {
            foreach (var stream in session.GetStreams())
            {
                if (patterns is null || patterns.Any(p => p.IsMatch(stream.ServiceId)))
                {
                    WriteObject(stream);
                }
            }
        }
    }
}
