using System.Management.Automation;
using System.Net;
using AwsTunnel.Engine.Agent;
using AwsTunnel.Engine.Protocol;
using AwsTunnel.Engine.Service;
using AwsTunnel.PowerShell.Input;
using AwsTunnel.PowerShell.LocalService;
using AwsTunnel.PowerShell.Sessions;
using Microsoft.Extensions.Logging.Abstractions;

namespace AwsTunnel.PowerShell.Commands;

/// <summary>
/// <para type="synopsis">Starts an in-process tunneling service on loopback, the offline stand-in for AWS IoT Secure Tunneling.</para>
/// <para type="description">Start-LocalTunnelService runs the service side of the secure tunneling protocol in this PowerShell process: handshake rules, token pairing, SERVICE_IDS, forwarding, peer replacement, tunnel close and expiry, over ws or (with -UseTls) wss with a self-signed certificate. Tunnels on it come from New-LocalTunnel, or from the IoT Secure Tunneling API that the same port answers (point Open-IOTSTTunnel -EndpointUrl, aws iotsecuretunneling --endpoint-url or AWS_ENDPOINT_URL_IOTSECURETUNNELING at ApiEndpoint), and pipe into Start-TunnelSource and Start-TunnelDestination like Open-IOTSTTunnel output. The first service started in a PowerShell session is its default, used by New-LocalTunnel; it stops with Stop-LocalTunnelService or when the session closes.</para>
/// </summary>
/// <example>
/// <code>$service = Start-LocalTunnelService
/// $service.Endpoint</code>
/// <para>Starts the service on a free loopback port (ws).</para>
/// </example>
/// <example>
/// <code>$service = Start-LocalTunnelService -MqttBroker Embedded
/// $service.MqttBroker</code>
/// <para>Also runs an MQTT broker and publishes a notification there for every tunnel opened for a thing (New-LocalTunnel -ThingName), for tunnel agents (Start-TunnelAgent) to act on.</para>
/// </example>
/// <example>
/// <code>$service = Start-LocalTunnelService
/// $env:AWS_ENDPOINT_URL_IOTSECURETUNNELING = $service.ApiEndpoint
/// $tunnel = Open-IOTSTTunnel -DestinationConfig_Service SSH1 -Region us-east-1</code>
/// <para>Points AWS Tools (and the AWS CLI) at the local service's Secure Tunneling API: scripts under test open tunnels with their usual calls.</para>
/// </example>
/// <example>
/// <code>Start-LocalTunnelService -UseTls -Port 8443 -MaxProtocol V2</code>
/// <para>Serves wss on port 8443 and speaks at most protocol V2, to test older peers.</para>
/// </example>
[Cmdlet(VerbsLifecycle.Start, "LocalTunnelService", SupportsShouldProcess = true)]
[OutputType(typeof(LocalTunnelServiceInfo))]
public sealed class StartLocalTunnelServiceCommand : PSCmdlet
{
    /// <summary>
    /// <para type="description">The port to listen on; 0 (default) picks a free one.</para>
    /// </summary>
    [Parameter]
    [ValidateRange(0, 65535)]
    public int Port { get; set; }

    /// <summary>
    /// <para type="description">The address to listen on. Default 127.0.0.1; keep it on loopback unless other machines must connect.</para>
    /// </summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string Address { get; set; } = "127.0.0.1";

    /// <summary>
    /// <para type="description">Serve wss with a self-signed certificate made in memory. Local tunnels carry the certificate, so piped Start cmdlets trust it.</para>
    /// </summary>
    [Parameter]
    public SwitchParameter UseTls { get; set; }

    /// <summary>
    /// <para type="description">The highest protocol version the service selects: V3 (default), V2 or V1.</para>
    /// </summary>
    [Parameter]
    public ProtocolVersion MaxProtocol { get; set; } = ProtocolVersion.V3;

    /// <summary>
    /// <para type="description">Lifetime of tunnels created without -Lifetime: a TimeSpan or seconds. Default 12 hours, as the AWS service.</para>
    /// </summary>
    [Parameter]
    [SecondsTransformation]
    public TimeSpan? TunnelLifetime { get; set; }

    /// <summary>
    /// <para type="description">Publish a notification, as AWS IoT does, on $aws/things/THING/tunnels/notify whenever a tunnel is opened for a thing (New-LocalTunnel -ThingName, OpenTunnel with destinationConfig.thingName) or its destination token is rotated. 'Embedded' runs an MQTT broker in this process on the service's address (port -MqttBrokerPort, default a free one); a URI (mqtt://host:port, mqtts://host:port) publishes to that broker. The broker's address is in the MqttBroker property, which binds to Start-TunnelAgent -Broker.</para>
    /// </summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? MqttBroker { get; set; }

    /// <summary>
    /// <para type="description">With -MqttBroker Embedded: the broker's port; 0 (default) picks a free one.</para>
    /// </summary>
    [Parameter]
    [ValidateRange(0, 65535)]
    public int MqttBrokerPort { get; set; }

    /// <summary>
    /// <para type="description">How many tunnels may be open at once; OpenTunnel and New-LocalTunnel fail past it (LimitExceededException). Default 100.</para>
    /// </summary>
    [Parameter]
    [ValidateRange(1, int.MaxValue)]
    public int MaxOpenTunnels { get; set; } = 100;

    /// <summary>
    /// <para type="description">Accept Secure Tunneling API calls only when signed with this access key id (the signature itself is not checked). Default: any caller.</para>
    /// </summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? AccessKeyId { get; set; }

    /// <inheritdoc />
    protected override void ProcessRecord()
    {
        IPAddress address;
        try
        {
            address = ListenAddress.Parse(Address, "-Address");
        }
        catch (ArgumentException ex)
        {
            ThrowTerminatingError(TunnelErrors.InvalidOptions(ex, "InvalidAddress"));
            return;
        }

        if (!ShouldProcess($"{Address}:{Port}", "Start local tunneling service"))
        {
            return;
        }

        var options = new LocalTunnelServiceOptions
        {
            Address = address, Port = Port, UseTls = UseTls, MaxProtocol = MaxProtocol, MaxOpenTunnels = MaxOpenTunnels, AccessKeyId = AccessKeyId,
        };
        if (TunnelLifetime is { } lifetime)
        {
            options = options with { DefaultTunnelLifetime = lifetime };
        }

        var publisher = StartPublisher(address);
        LocalTunnelServiceInfo info;
        try
        {
            info = LocalServices.Start(this, options);
        }
        catch
        {
            publisher?.DisposeAsync().AsTask().GetAwaiter().GetResult();
            throw;
        }

        if (publisher is not null)
        {
            info.Notifier = new TunnelNotifier(info.Service.Registry, publisher, NullLogger.Instance);
            WriteVerbose($"Tunnel notifications go to {publisher.BrokerUri}.");
        }

        WriteObject(info);
    }

    private INotificationPublisher? StartPublisher(IPAddress address)
    {
        if (MqttBroker is null)
        {
            if (MyInvocation.BoundParameters.ContainsKey(nameof(MqttBrokerPort)))
            {
                ThrowTerminatingError(TunnelErrors.InvalidOptions(new ArgumentException(
                    "-MqttBrokerPort needs -MqttBroker Embedded: it is the embedded broker's port."), "InvalidMqttBroker"));
            }

            return null;
        }

        try
        {
            if (string.Equals(MqttBroker, "Embedded", StringComparison.OrdinalIgnoreCase))
            {
                return EmbeddedNotificationBroker.StartAsync(address, MqttBrokerPort).GetAwaiter().GetResult();
            }

            return new ExternalNotificationBroker(BrokerAddress.Parse(MqttBroker));
        }
        catch (ArgumentException ex)
        {
            ThrowTerminatingError(TunnelErrors.InvalidOptions(new ArgumentException(
                $"-MqttBroker: {ex.Message} Or give Embedded to run a broker in this process."), "InvalidMqttBroker"));
        }
        catch (InvalidOperationException ex)
        {
            ThrowTerminatingError(new ErrorRecord(ex, "MqttBrokerStartFailed", ErrorCategory.ResourceUnavailable, MqttBrokerPort));
        }

        return null;
    }
}
