using System.Management.Automation;
using AwsTunnel.PowerShell.LocalService;
using AwsTunnel.PowerShell.Sessions;

namespace AwsTunnel.PowerShell.Commands;

/// <summary>
/// <para type="synopsis">Stops a local tunneling service and closes its tunnels.</para>
/// <para type="description">Stop-LocalTunnelService closes every tunnel on the service (connected sessions complete) and stops listening. Without input it stops the session's default service; with -All, every local service of this PowerShell session.</para>
/// </summary>
/// <example>
/// <code>Stop-LocalTunnelService</code>
/// <para>Stops the default local service.</para>
/// </example>
/// <example>
/// <code>$service | Stop-LocalTunnelService -Confirm:$false</code>
/// <para>Stops a given service without asking.</para>
/// </example>
[Cmdlet(VerbsLifecycle.Stop, "LocalTunnelService", SupportsShouldProcess = true, DefaultParameterSetName = "Service")]
public sealed class StopLocalTunnelServiceCommand : PSCmdlet
{
    /// <summary>
    /// <para type="description">The services to stop (from Start-LocalTunnelService, Get-LocalTunnelService, or the LocalService of a local tunnel). Default: the default service.</para>
    /// </summary>
    [Parameter(Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true, ParameterSetName = "Service")]
    [Alias("LocalService")]
    public LocalTunnelServiceInfo[]? InputObject { get; set; }

    /// <summary>
    /// <para type="description">Stop every local tunneling service of this PowerShell session.</para>
    /// </summary>
    [Parameter(Mandatory = true, ParameterSetName = "All")]
    public SwitchParameter All { get; set; }

    /// <inheritdoc />
    protected override void ProcessRecord()
    {
        var scope = RunspaceScope.Current;
        var services = All ? scope.LocalServices.ToArray()
            : InputObject ?? (scope.DefaultLocalService is { } d ? new[] { d } : Array.Empty<LocalTunnelServiceInfo>());
        foreach (var service in services)
        {
            if (ShouldProcess(service.Endpoint, "Stop local tunneling service"))
            {
                service.StopAsync().GetAwaiter().GetResult();
                scope.RemoveLocalService(service);
            }
        }
    }
}
