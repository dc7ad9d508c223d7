using System.Management.Automation;
using AwsTunnel.Engine.Protocol;

namespace AwsTunnel.PowerShell.Commands;

/// <summary>
/// <para type="synopsis">Starts the destination end of a secure tunnel: forwards each stream to a local target.</para>
/// <para type="description">Start-TunnelDestination connects to AWS IoT Secure Tunneling (or the local tunneling service) with the tunnel's destination access token, checks the tunnel's services against -Service, and then connects every stream the source opens to the target given for its service (SERVICE=HOST:PORT, or SERVICE=PORT on this machine). It returns a TunnelSession job once connected; the session runs until Stop-TunnelSession or Stop-Job, or until the tunnel is closed.</para>
/// <para type="description">Pipe the output of Open-IOTSTTunnel or New-LocalTunnel (DestinationAccessToken, TunnelId, TunnelArn, Endpoint), or a device's notification payload after ConvertFrom-Json (clientAccessToken, clientMode, region).</para>
/// </summary>
/// <example>
/// <code>$payload = $message | ConvertFrom-Json
/// $payload | Start-TunnelDestination -Service SSH1=127.0.0.1:22</code>
/// <para>On a device: starts the destination from the notification published on $aws/things/THING/tunnels/notify; region and token come from the payload.</para>
/// </example>
/// <example>
/// <code>$tunnel = New-LocalTunnel -Service ECHO
/// $tunnel | Start-TunnelDestination -Service ECHO=127.0.0.1:7 -Name echo-destination</code>
/// <para>Offline: the destination end of a local tunnel, forwarding ECHO streams to a TCP server on port 7.</para>
/// </example>
[Cmdlet(VerbsLifecycle.Start, "TunnelDestination")]
[OutputType(typeof(TunnelSession))]
public sealed class StartTunnelDestinationCommand : StartTunnelCommandBase
{
    /// <summary>
    /// <para type="description">The tunnel's destination access token (secret: never shown or logged). Binds from DestinationAccessToken (Open-IOTSTTunnel, New-LocalTunnel) or clientAccessToken (a device notification).</para>
    /// </summary>
    [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true)]
    [Alias("DestinationAccessToken", "ClientAccessToken")]
    [ValidateNotNullOrEmpty]
    public string AccessToken { get; set; } = string.Empty;

    private protected override TunnelMode Mode => TunnelMode.Destination;

    private protected override string AccessTokenValue => AccessToken;
}
