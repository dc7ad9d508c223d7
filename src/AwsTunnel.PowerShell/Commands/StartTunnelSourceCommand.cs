using System.Management.Automation;
using AwsTunnel.Engine.Protocol;
using AwsTunnel.Engine.Tunnel;

namespace AwsTunnel.PowerShell.Commands;

/// <summary>
/// <para type="synopsis">Starts the source end of a secure tunnel: listens locally, one port per service.</para>
/// <para type="description">Start-TunnelSource connects to AWS IoT Secure Tunneling (or the local tunneling service) with the tunnel's source access token, checks the services the tunnel announces against -Service, and listens on one local port per service. Connections to those ports travel through the tunnel to the destination. It returns a TunnelSession job once the session is connected and listening; the bound ports are in its Ports property. The session keeps running, and reconnecting if the WebSocket drops, until Stop-TunnelSession or Stop-Job, or until the tunnel is closed.</para>
/// <para type="description">Pipe the output of Open-IOTSTTunnel or New-LocalTunnel: SourceAccessToken, TunnelId, TunnelArn (its region) and, for a local tunnel, Endpoint and Certificate bind by property name.</para>
/// </summary>
/// <example>
/// <code>$tunnel = Open-IOTSTTunnel -DestinationConfig_ThingName my-device -DestinationConfig_Service SSH1
/// $session = $tunnel | Start-TunnelSource -Service SSH1=5555
/// ssh -p 5555 ec2-user@localhost</code>
/// <para>Opens a tunnel with AWS Tools and starts the source end on local port 5555; the region comes from the tunnel's ARN.</para>
/// </example>
/// <example>
/// <code>$tunnel = New-LocalTunnel -Service ECHO
/// $tunnel | Start-TunnelDestination -Service ECHO=127.0.0.1:7
/// $session = $tunnel | Start-TunnelSource -Service ECHO=0
/// $session.Ports['ECHO']</code>
/// <para>Offline: a tunnel on the local tunneling service, both ends in this session; the source listens on a free port, shown by Ports.</para>
/// </example>
/// <example>
/// <code>$env:AWSIOT_TUNNEL_REGION = 'eu-west-1'
/// Start-TunnelSource -AccessToken $env:SOURCE_TOKEN -Service @{SSH1=5555; HTTP=8080} -Name web</code>
/// <para>Starts a source for a two-service tunnel from a token given directly. The region comes from AWSIOT_TUNNEL_REGION here; -Region, $StoredAWSRegion (Set-DefaultAWSRegion) and AWS_REGION work too.</para>
/// </example>
[Cmdlet(VerbsLifecycle.Start, "TunnelSource")]
[OutputType(typeof(TunnelSession))]
public sealed class StartTunnelSourceCommand : StartTunnelCommandBase
{
    /// <summary>
    /// <para type="description">The tunnel's source access token (secret: never shown or logged). Binds from SourceAccessToken (Open-IOTSTTunnel, New-LocalTunnel) or clientAccessToken (a device notification).</para>
    /// </summary>
    [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true)]
    [Alias("SourceAccessToken", "ClientAccessToken")]
    [ValidateNotNullOrEmpty]
    public string AccessToken { get; set; } = string.Empty;

    /// <summary>
    /// <para type="description">The local address to listen on. Default: localhost.</para>
    /// </summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? BindAddress { get; set; }

    /// <summary>
    /// <para type="description">The protocol the destination's local proxy speaks: V3 (default), or V2/V1 for older proxies (one connection per service, no connection ids).</para>
    /// </summary>
    [Parameter]
    public ProtocolVersion DestinationClientType { get; set; } = ProtocolVersion.V3;

    private protected override TunnelMode Mode => TunnelMode.Source;

    private protected override string AccessTokenValue => AccessToken;

    private protected override TunnelOptions Complete(TunnelOptions options) =>
        options with { BindAddress = BindAddress, DestinationClientType = DestinationClientType };
}
