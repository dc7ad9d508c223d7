using System.Management.Automation;
using AwsTunnel.PowerShell.LocalService;

namespace AwsTunnel.PowerShell.Commands;

/// <summary>
/// <para type="synopsis">Closes a tunnel on the local tunneling service, like CloseTunnel on AWS.</para>
/// <para type="description">Close-LocalTunnel closes the tunnel: both connected proxies see the WebSocket close normally (their sessions complete) and the tokens stop working. The tunnel is found by TunnelId on the given service, or on any local service of this PowerShell session.</para>
/// </summary>
/// <example>
/// <code>$tunnel | Close-LocalTunnel</code>
/// <para>Closes a tunnel from New-LocalTunnel; sessions on it end as Completed.</para>
/// </example>
/// <example>
/// <code>Close-LocalTunnel -TunnelId $tunnel.TunnelId -Confirm:$false</code>
/// <para>Closes a tunnel by its id (a GUID, as (Get-LocalTunnelService).Tunnels lists them) without asking.</para>
/// </example>
[Cmdlet(VerbsCommon.Close, "LocalTunnel", SupportsShouldProcess = true)]
public sealed class CloseLocalTunnelCommand : PSCmdlet
{
    /// <summary>
    /// <para type="description">The id of the tunnel to close; binds from TunnelId of piped objects.</para>
    /// </summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string[] TunnelId { get; set; } = Array.Empty<string>();

    /// <summary>
    /// <para type="description">The local tunneling service holding the tunnel; default: search every local service of this session.</para>
    /// </summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    public LocalTunnelServiceInfo? LocalService { get; set; }

    /// <inheritdoc />
    protected override void ProcessRecord()
    {
        foreach (var id in TunnelId)
        {
            var tunnel = LocalServices.FindTunnel(id, LocalService);
            if (tunnel is null)
            {
                WriteError(TunnelErrors.NotFound("LocalTunnelNotFound",
                    $"No local tunnel has id '{id}'. Tunnels come from New-LocalTunnel; see (Get-LocalTunnelService).Tunnels.", id));
                continue;
            }

            if (ShouldProcess(tunnel.ToString(), "Close local tunnel"))
            {
                tunnel.CloseAsync().GetAwaiter().GetResult();
            }
        }
    }
}
