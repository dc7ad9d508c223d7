using System.Management.Automation;
using AwsTunnel.PowerShell.LocalService;
using AwsTunnel.PowerShell.Sessions;

namespace AwsTunnel.PowerShell.Commands;

/// <summary>
/// <para type="synopsis">Lists the local tunneling services of this PowerShell session.</para>
/// <para type="description">Get-LocalTunnelService returns the running local tunneling services, the default one first. Each has its Endpoint, its Tunnels and, with TLS, its Certificate.</para>
/// </summary>
/// <example>
/// <code>Get-LocalTunnelService</code>
/// <para>Lists the services.</para>
/// </example>
/// <example>
/// <code>(Get-LocalTunnelService).Tunnels | Where-Object IsOpen</code>
/// <para>Lists the open tunnels of every local service.</para>
/// </example>
[Cmdlet(VerbsCommon.Get, "LocalTunnelService")]
[OutputType(typeof(LocalTunnelServiceInfo))]
public sealed class GetLocalTunnelServiceCommand : PSCmdlet
{
    /// <inheritdoc />
    protected override void ProcessRecord() =>
        WriteObject(RunspaceScope.Current.LocalServices, enumerateCollection: true);
}
