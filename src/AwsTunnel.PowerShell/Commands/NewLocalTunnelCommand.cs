using System.Management.Automation;
using AwsTunnel.Engine.Service;
using AwsTunnel.PowerShell.Input;
using AwsTunnel.PowerShell.LocalService;

namespace AwsTunnel.PowerShell.Commands;

/// <summary>
/// <para type="synopsis">Opens a tunnel on the local tunneling service, like Open-IOTSTTunnel does on AWS.</para>
/// <para type="description">New-LocalTunnel creates a tunnel with the given service ids and returns an object shaped like the AWS OpenTunnelResponse (TunnelId, TunnelArn, SourceAccessToken, DestinationAccessToken) plus the service's Endpoint and Certificate, so it pipes into Start-TunnelSource and Start-TunnelDestination. It uses the service given by -LocalService, else the session's default service, and starts one when none runs. The tokens are secrets: the default views and ToString leave them out.</para>
/// </summary>
/// <example>
/// <code>$tunnel = New-LocalTunnel -Service SSH1, SSH2
/// $tunnel | Start-TunnelDestination -Service SSH1=127.0.0.1:22, SSH2=127.0.0.1:2222
/// $tunnel | Start-TunnelSource</code>
/// <para>A two-service tunnel on the default local service, with both ends in this session.</para>
/// </example>
/// <example>
/// <code>$service = Start-LocalTunnelService -MqttBroker Embedded
/// $agent = $service | Start-TunnelAgent -ThingName dev42 -Service SSH=127.0.0.1:22
/// $tunnel = New-LocalTunnel -Service SSH -ThingName dev42 -LocalService $service</code>
/// <para>Opens a tunnel for thing dev42: the service publishes its notification, as AWS IoT does, and the agent starts the destination.</para>
/// </example>
/// <example>
/// <code>$tunnel = New-LocalTunnel -Lifetime 60</code>
/// <para>A single-stream (V1-style) tunnel that expires after a minute.</para>
/// </example>
[Cmdlet(VerbsCommon.New, "LocalTunnel", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(LocalTunnelInfo))]
public sealed class NewLocalTunnelCommand : PSCmdlet
{
    /// <summary>
    /// <para type="description">The tunnel's service ids (as DestinationConfig.services). None: a single-stream tunnel.</para>
    /// </summary>
    [Parameter(Position = 0)]
    [ValidateNotNullOrEmpty]
    [ValidatePattern("^[a-zA-Z0-9:_-]{1,128}$")]
    public string[]? Service { get; set; }

    /// <summary>
    /// <para type="description">How long the tunnel lives: a TimeSpan or seconds. Default: the service's (12 hours).</para>
    /// </summary>
    [Parameter]
    [SecondsTransformation]
    public TimeSpan? Lifetime { get; set; }

    /// <summary>
    /// <para type="description">The thing (device) the tunnel is for, as DestinationConfig.thingName. When the service publishes notifications (Start-LocalTunnelService -MqttBroker), the tunnel's notification goes to $aws/things/THING/tunnels/notify, where a tunnel agent (Start-TunnelAgent) starts the destination.</para>
    /// </summary>
    [Parameter]
    [ValidatePattern("^[a-zA-Z0-9:_-]{1,128}$")]
    public string? ThingName { get; set; }

    /// <summary>
    /// <para type="description">The local tunneling service to use; default: this session's default service.</para>
    /// </summary>
    [Parameter(ValueFromPipeline = true)]
    public LocalTunnelServiceInfo? LocalService { get; set; }

    /// <inheritdoc />
    protected override void ProcessRecord()
    {
        string what = Service is { Length: > 0 } ? string.Join(", ", Service) : "a single stream";
        if (!ShouldProcess(what, "Open local tunnel"))
        {
            return;
        }

        var service = LocalServices.GetOrStartDefault(this, LocalService);
        try
        {
            WriteObject(service.CreateTunnel(Service ?? Array.Empty<string>(), Lifetime, ThingName));
        }
        catch (ArgumentException ex)
        {
            ThrowTerminatingError(TunnelErrors.InvalidOptions(ex, "InvalidLocalTunnel"));
        }
        catch (TunnelLimitExceededException ex)
        {
            ThrowTerminatingError(new ErrorRecord(ex, "LocalTunnelLimitExceeded", ErrorCategory.LimitsExceeded, service));
        }
        catch (ObjectDisposedException)
        {
            ThrowTerminatingError(new ErrorRecord(new InvalidOperationException(
                "The local tunneling service has stopped. Start one with Start-LocalTunnelService."), "LocalServiceStopped", ErrorCategory.InvalidOperation, service));
        }
    }
}
