using System.Collections;
using System.Management.Automation;
using System.Security.Cryptography.X509Certificates;
using AwsTunnel.Engine.Agent;
using AwsTunnel.Engine.Protocol;
using AwsTunnel.Engine.Settings;
using AwsTunnel.Engine.Transport;
using AwsTunnel.Engine.Tunnel;
using AwsTunnel.PowerShell.Completers;
using AwsTunnel.PowerShell.Input;
using AwsTunnel.PowerShell.Logging;
using AwsTunnel.PowerShell.Sessions;
using Microsoft.Extensions.Logging;

namespace AwsTunnel.PowerShell.Commands;

/// <summary>
/// <para type="synopsis">Starts a tunnel agent: the device side of AWS IoT Secure Tunneling, starting a destination for every tunnel opened for a thing.</para>
/// <para type="description">Start-TunnelAgent connects to an MQTT broker, subscribes to $aws/things/THING/tunnels/notify and, for every notification (clientAccessToken, clientMode, region, services), starts a destination session that forwards each service's streams to its target. Against AWS IoT Core, give the account's endpoint (xxxx-ats.iot.REGION.amazonaws.com; mqtts on 8883) with the thing's certificate, private key and AmazonRootCA1.pem: Start-TunnelAgent -ThingName dev42 -Broker a1b2c3-ats.iot.us-east-1.amazonaws.com -DeviceCertificate dev42.cert.pem -DeviceKey dev42.private.key -BrokerCA AmazonRootCA1.pem -Service SSH=22. Any broker works as mqtts://host:port or mqtt://host:port.</para>
/// <para type="description">Targets come from -Service (SERVICE=HOST:PORT or SERVICE=PORT on this machine); a service named in no -Service entry uses the well-known default: SSH=22, VNC=5900, RDP=3389, HTTP=80, HTTPS=443 on localhost. A notification naming a service with no target is skipped with a warning.</para>
/// <para type="description">Each destination shows in Get-TunnelSession (its Agent property names the agent) and among the agent's ChildJobs, and stops with the agent (Stop-Job). A repeated notification for a tunnel already served changes nothing; a new token for it (RotateTunnelAccessToken) replaces its destination. At most -MaxTunnels tunnels are served at once. Notifications that are not valid destination notifications are logged in the Warning stream, never with their token, and skipped. When the broker connection drops, running tunnels carry on and the agent reconnects with backoff and subscribes again.</para>
/// <para type="description">Offline: pipe a local tunneling service started with -MqttBroker Embedded. Its MqttBroker, Endpoint and Certificate bind to -Broker, -Endpoint and -TrustedCertificate, and every New-LocalTunnel -ThingName reaches the agent as an AWS notification would.</para>
/// </summary>
/// <example>
/// <code>$service = Start-LocalTunnelService -MqttBroker Embedded
/// $agent = $service | Start-TunnelAgent -ThingName dev42 -Service SSH=127.0.0.1:22
/// $tunnel = New-LocalTunnel -Service SSH -ThingName dev42
/// $null = Wait-Job $agent -Timeout 3
/// Get-TunnelSession | Where-Object Agent -eq $agent.Name</code>
/// <para>Offline: the local service publishes the tunnel's notification on its embedded broker and the agent starts the destination for SSH, which shows in Get-TunnelSession. (Wait-Job only gives the notification a moment to arrive: the agent runs until stopped.)</para>
/// </example>
/// <example>
/// <code>$service = Start-LocalTunnelService -MqttBroker Embedded
/// $agent = $service | Start-TunnelAgent -ThingName dev42 -Service @{ECHO='127.0.0.1:7'; WEB=8080} -MaxTunnels 2 -Name edge-agent
/// $agent | Stop-Job
/// $agent.State</code>
/// <para>Targets for two services, at most two tunnels at once; stopping the agent job stops every destination it started.</para>
/// </example>
[Cmdlet(VerbsLifecycle.Start, "TunnelAgent")]
[OutputType(typeof(TunnelAgentJob))]
public sealed class StartTunnelAgentCommand : PSCmdlet
{
    private CancellationTokenSource? _cancel;

    /// <summary>
    /// <para type="description">The thing (device) whose tunnel notifications are served, as registered in AWS IoT.</para>
    /// </summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string ThingName { get; set; } = string.Empty;

    /// <summary>
    /// <para type="description">The MQTT broker: the AWS IoT Core endpoint (xxxx-ats.iot.REGION.amazonaws.com, mqtts on 8883), host:port (mqtts), mqtts://host:port or mqtt://host:port. Binds from the MqttBroker of a local tunneling service.</para>
    /// </summary>
    [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true)]
    [Alias("MqttBroker")]
    [ValidateNotNullOrEmpty]
    public string Broker { get; set; } = string.Empty;

    /// <summary>
    /// <para type="description">The device's X.509 certificate (PEM, with -DeviceKey; or a .pfx/.p12 file), presented to the broker for mutual TLS.</para>
    /// </summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? DeviceCertificate { get; set; }

    /// <summary>
    /// <para type="description">The device certificate's private key (PEM).</para>
    /// </summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? DeviceKey { get; set; }

    /// <summary>
    /// <para type="description">The CA the broker's certificate is checked against, in addition to the system's: a PEM file (AmazonRootCA1.pem for AWS IoT Core) or a directory of them.</para>
    /// </summary>
    [Parameter]
    [Alias("RootCA")]
    [ValidateNotNullOrEmpty]
    public string? BrokerCA { get; set; }

    /// <summary>
    /// <para type="description">Accept any broker certificate. Unsafe: the broker connection can be intercepted.</para>
    /// </summary>
    [Parameter]
    public SwitchParameter SkipBrokerCertificateCheck { get; set; }

    /// <summary>
    /// <para type="description">The MQTT client id. Default: the thing name (AWS IoT policies usually require it).</para>
    /// </summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? ClientId { get; set; }

    /// <summary>
    /// <para type="description">A user name and password for brokers that want them (AWS IoT Core does not).</para>
    /// </summary>
    [Parameter]
    [Credential]
    [ValidateNotNull]
    public PSCredential? BrokerCredential { get; set; }

    /// <summary>
    /// <para type="description">Targets per service: SERVICE=HOST:PORT or SERVICE=PORT, comma lists, arrays or hashtables such as @{SSH1='127.0.0.1:22'; HTTP=8080}. Services named nowhere use the well-known defaults SSH=22, VNC=5900, RDP=3389, HTTP=80, HTTPS=443.</para>
    /// </summary>
    [Parameter(Position = 1)]
    [Alias("Services")]
    public object[]? Service { get; set; }

    /// <summary>
    /// <para type="description">The most tunnels served at once (default 10); further notifications are skipped with a warning until one closes.</para>
    /// </summary>
    [Parameter]
    [ValidateRange(1, 10000)]
    public int MaxTunnels { get; set; } = AgentOptions.DefaultMaxTunnels;

    /// <summary>
    /// <para type="description">The tunneling service every destination connects to instead of the notification region's AWS endpoint: the local tunneling service's ws:// or wss:// address (binds from its Endpoint).</para>
    /// </summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string? Endpoint { get; set; }

    /// <summary>
    /// <para type="description">Certificates to trust for the tunneling service; a local service on wss supplies its own through the pipeline.</para>
    /// </summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [Alias("Certificate")]
    public X509Certificate2[]? TrustedCertificate { get; set; }

    /// <summary>
    /// <para type="description">A directory of PEM/CRT certificates to trust for the tunneling service in addition to the system's.</para>
    /// </summary>
    [Parameter]
    [Alias("CAPath")]
    public string? CertificatePath { get; set; }

    /// <summary>
    /// <para type="description">Accept any tunneling service certificate. Unsafe.</para>
    /// </summary>
    [Parameter]
    public SwitchParameter SkipCertificateCheck { get; set; }

    /// <summary>
    /// <para type="description">A settings JSON file for the destinations, in the reference local proxy's shape (see Export-TunnelSettings).</para>
    /// </summary>
    [Parameter]
    [Alias("SettingsJson")]
    [ValidateNotNullOrEmpty]
    public string? SettingsPath { get; set; }

    /// <summary>
    /// <para type="description">One-off settings overrides for the destinations: a hashtable of dotted keys relative to tunneling.proxy, e.g. @{ 'tcp.max_active_connections' = 4 }.</para>
    /// </summary>
    [Parameter]
    [ArgumentCompleter(typeof(SettingKeyCompleter))]
    public Hashtable? Setting { get; set; }

    /// <summary>
    /// <para type="description">How long connecting to the broker, and each destination's start, may take: a TimeSpan or seconds. Default 30 seconds.</para>
    /// </summary>
    [Parameter]
    [SecondsTransformation]
    public TimeSpan StartTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// <para type="description">The agent's job name. Default: agent-THING.</para>
    /// </summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Name { get; set; }

    /// <inheritdoc />
    protected override void ProcessRecord()
    {
        var log = new SessionLog(LogLevel.Debug);
        var settingsLogger = log.CreateFactory().CreateLogger("AwsTunnel.Settings");
        AgentOptions options;
        try
        {
            options = BuildOptions(settingsLogger);
            options.Validate();
        }
        catch (SettingsException ex)
        {
            ThrowTerminatingError(TunnelErrors.InvalidSettings(ex));
            return;
        }
        catch (FormatException ex)
        {
            ThrowTerminatingError(TunnelErrors.InvalidService(ex, Service));
            return;
        }
        catch (ArgumentException ex)
        {
            ThrowTerminatingError(TunnelErrors.InvalidOptions(ex, "InvalidAgentOptions"));
            return;
        }

        var job = new TunnelAgentJob(options, log, RunspaceScope.Current,
            $"Start-TunnelAgent -ThingName {options.ThingName} -Broker {options.Broker}", Name ?? $"agent-{options.ThingName}");
        using (var cancel = new CancellationTokenSource())
        {
            _cancel = cancel;
            try
            {
                log.RelayUntil(this, job.Agent.StartAsync(cancel.Token));
            }
            catch (AgentStartException ex)
            {
                job.Dispose();
                ThrowTerminatingError(TunnelErrors.AgentStartFailed(ex, options.Broker.ToString()));
            }
            catch (OperationCanceledException)
            {
                job.Dispose();
                throw new PipelineStoppedException();
            }
            finally
            {
                _cancel = null;
            }
        }

        job.OnStarted();
        var definition = new JobDefinition(typeof(TunnelSessionSourceAdapter), job.Command, job.Name);
        var parameters = new Dictionary<string, object> { [TunnelSessionSourceAdapter.AgentParameter] = job };
        JobManager.NewJob(new JobInvocationInfo(definition, parameters));
        WriteObject(job);
    }

    /// <summary>Ctrl+C while connecting abandons the start.</summary>
    protected override void StopProcessing() => _cancel?.Cancel();

    private AgentOptions BuildOptions(ILogger settingsLogger)
    {
        string? settingsPath = SettingsPath is null ? null : ResolvePath(SettingsPath);
        var settings = SettingArgument.Resolve(settingsPath, Setting, settingsLogger);
        if (DeviceKey is not null && DeviceCertificate is null)
        {
            throw new ArgumentException("-DeviceKey needs -DeviceCertificate: give the certificate the key belongs to.");
        }

        var certificates = TrustedCertificate?.Where(c => c is not null).ToArray();
        return new AgentOptions
        {
            ThingName = ThingName,
            Broker = BrokerAddress.Parse(Broker),
            ClientId = ClientId,
            ClientCertificate = DeviceCertificate is null ? null : DeviceCertificates.LoadClientCertificate(ResolvePath(DeviceCertificate), DeviceKey is null ? null : ResolvePath(DeviceKey)),
            BrokerTrustedCertificates = BrokerCA is null ? null : DeviceCertificates.LoadAuthorities(ResolvePath(BrokerCA)),
            SkipBrokerCertificateCheck = SkipBrokerCertificateCheck,
            BrokerCredential = BrokerCredential?.GetNetworkCredential(),
            Services = ServiceArgument.Parse(Service, TunnelMode.Destination),
            MaxTunnels = MaxTunnels,
            TunnelEndpoint = Endpoint is null ? null : TunnelEndpoint.FromEndpoint(Endpoint),
            CertificateAuthorityPath = CertificatePath is null ? null : ResolvePath(CertificatePath),
            TrustedCertificates = certificates is { Length: > 0 } ? new X509Certificate2Collection(certificates) : null,
            SkipCertificateCheck = SkipCertificateCheck,
            WebProxy = WebProxyResolver.FromEnvironment(TunnelEnvironment.FromProcess(), settingsLogger),
            Settings = settings,
            StartTimeout = StartTimeout,
        };
    }

    private string ResolvePath(string path) => SessionState.Path.GetUnresolvedProviderPathFromPSPath(path);
}
