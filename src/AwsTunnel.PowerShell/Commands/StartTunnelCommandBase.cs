using System.Management.Automation;
using System.Security.Cryptography.X509Certificates;
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
/// What Start-TunnelSource and Start-TunnelDestination share: turn parameters (or a piped
/// OpenTunnelResponse, local tunnel or device notification) into engine options, start the
/// session while relaying its log, and hand the started session to the job manager.
/// </summary>
public abstract class StartTunnelCommandBase : PSCmdlet
{
    private CancellationTokenSource? _cancel;
    private bool _regionOnCommandLine;
    private bool _endpointOnCommandLine;

    /// <summary>
    /// <para type="description">The local mapping of the tunnel's services. Forms: SSH1=5555, 5555, SSH1=10.0.0.1:22 (destination), comma lists, arrays and hashtables such as @{SSH1=5555; HTTP=8080}. A bare id (SSH1) means any free port on a source. Without it, a source listens on free ports for every service the tunnel announces.</para>
    /// </summary>
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("Services")]
    [ArgumentCompleter(typeof(ServiceIdCompleter))]
    public object[]? Service { get; set; }

    /// <summary>
    /// <para type="description">The AWS region the tunnel was opened in, e.g. us-east-1. When absent: the region in TunnelArn, then AWSIOT_TUNNEL_REGION, $StoredAWSRegion, AWS_REGION, AWS_DEFAULT_REGION.</para>
    /// </summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(RegionCompleter))]
    public string? Region { get; set; }

    /// <summary>
    /// <para type="description">The tunneling service endpoint instead of a region: host, host:port, or a ws:// or wss:// URI (the local tunneling service's Endpoint binds here from the pipeline).</para>
    /// </summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    public string? Endpoint { get; set; }

    /// <summary>
    /// <para type="description">The client token sent on every connect (32-128 letters, digits or '-'), so a reconnect can reuse the access token. Generated when absent.</para>
    /// </summary>
    [Parameter]
    public string? ClientToken { get; set; }

    /// <summary>
    /// <para type="description">A directory of PEM/CRT certificates to trust in addition to the system's.</para>
    /// </summary>
    [Parameter]
    [Alias("CAPath")]
    public string? CertificatePath { get; set; }

    /// <summary>
    /// <para type="description">Certificates to trust for the service's TLS connection; a local tunnel on wss supplies its service's self-signed certificate through the pipeline.</para>
    /// </summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [Alias("Certificate")]
    public X509Certificate2[]? TrustedCertificate { get; set; }

    /// <summary>
    /// <para type="description">Accept any server certificate. Unsafe: the connection can be intercepted. A warning is written on every start.</para>
    /// </summary>
    [Parameter]
    public SwitchParameter SkipCertificateCheck { get; set; }

    /// <summary>
    /// <para type="description">The session's job name (Get-Job, Get-TunnelSession -Name). Default: the mode and the first characters of the tunnel id.</para>
    /// </summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Name { get; set; }

    /// <summary>
    /// <para type="description">The tunnel's id, kept on the session for reference (bound from TunnelId of the pipeline object).</para>
    /// </summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    public string? TunnelId { get; set; }

    /// <summary>
    /// <para type="description">The tunnel's ARN (bound from TunnelArn of the pipeline object); its region is used when -Region is absent.</para>
    /// </summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    public string? TunnelArn { get; set; }

    /// <summary>
    /// <para type="description">The clientMode of a device notification payload; checked against the cmdlet so a token is not used for the wrong end.</para>
    /// </summary>
    [Parameter(ValueFromPipelineByPropertyName = true, DontShow = true)]
    public string? ClientMode { get; set; }

    /// <summary>
    /// <para type="description">How long the start may take (connect, service check, listeners): a TimeSpan or a number of seconds. Default 30 seconds.</para>
    /// </summary>
    [Parameter]
    [SecondsTransformation]
    public TimeSpan StartTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Source or destination.</summary>
    private protected abstract TunnelMode Mode { get; }

    /// <summary>The access token, from the subclass's parameter (each binds its own aliases).</summary>
    private protected abstract string AccessTokenValue { get; }

    /// <summary>Mode-specific options (bind address, destination client type).</summary>
    private protected virtual TunnelOptions Complete(TunnelOptions options) => options;

    /// <inheritdoc />
    protected override void BeginProcessing()
    {
        // Pipeline values are bound later: what is bound now was typed by the user.
        _regionOnCommandLine = MyInvocation.BoundParameters.ContainsKey(nameof(Region));
        _endpointOnCommandLine = MyInvocation.BoundParameters.ContainsKey(nameof(Endpoint));
    }

    /// <inheritdoc />
    protected override void ProcessRecord()
    {
        CheckClientMode();
        var services = ParseServices();
        var serviceUri = ResolveServiceUri();
        string? tunnelId = TunnelId ?? TunnelArnParser.GetTunnelId(TunnelArn);
        string target = tunnelId ?? serviceUri.ToString();

        var log = new SessionLog(LogLevel.Debug);
        TunnelClient client;
        try
        {
            client = new TunnelClient(Complete(new TunnelOptions
            {
                Mode = Mode,
                ServiceUri = serviceUri,
                AccessToken = AccessTokenValue,
                ClientToken = ClientToken,
                Services = services,
                CertificateAuthorityPath = CertificatePath is null ? null : SessionState.Path.GetUnresolvedProviderPathFromPSPath(CertificatePath),
                TrustedCertificates = TrustedCollection(),
                SkipCertificateCheck = SkipCertificateCheck,
                StartTimeout = StartTimeout,
                LoggerFactory = log.CreateFactory(),
            }));
        }
        catch (ArgumentException ex)
        {
            ThrowTerminatingError(TunnelErrors.InvalidOptions(ex));
            return;
        }

        var session = new TunnelSession(client, log, RunspaceScope.Current, Describe(services, serviceUri), Name ?? DefaultName(tunnelId), tunnelId);
        try
        {
            StartRelayingLog(client, log);
        }
        catch (TunnelStartException ex)
        {
            session.DiscardUnstarted();
            ThrowTerminatingError(TunnelErrors.StartFailed(ex, target));
        }
        catch (OperationCanceledException)
        {
            session.DiscardUnstarted();
            throw new PipelineStoppedException();
        }

        session.OnStarted();
        var definition = new JobDefinition(typeof(TunnelSessionSourceAdapter), session.Command, session.Name);
        var parameters = new Dictionary<string, object> { [TunnelSessionSourceAdapter.SessionParameter] = session };
        JobManager.NewJob(new JobInvocationInfo(definition, parameters));
        WriteObject(session);
    }

    /// <summary>Ctrl+C during a start abandons it.</summary>
    protected override void StopProcessing() => _cancel?.Cancel();

    /// <summary>
    /// Waits for the engine's start on the pipeline thread, writing its log records as they
    /// come (WriteVerbose and friends may only be called from this thread).
    /// </summary>
    private void StartRelayingLog(TunnelClient client, SessionLog log)
    {
        using var cancel = new CancellationTokenSource();
        _cancel = cancel;
        try
        {
            var start = client.StartAsync(cancel.Token);
            var wakeUps = new[] { ((IAsyncResult)start).AsyncWaitHandle, log.Arrived };
            while (!start.IsCompleted)
            {
                WaitHandle.WaitAny(wakeUps);
                log.Drain(this);
            }

            log.Drain(this);
            start.GetAwaiter().GetResult();
        }
        finally
        {
            _cancel = null;
        }
    }

    private void CheckClientMode()
    {
        if (string.IsNullOrWhiteSpace(ClientMode))
        {
            return;
        }

        if (!TunnelModeNames.TryParseWire(ClientMode.Trim().ToLowerInvariant(), out var mode))
        {
            ThrowTerminatingError(TunnelErrors.InvalidOptions(new ArgumentException(
                $"clientMode '{ClientMode}' is neither 'source' nor 'destination'. Pipe a notification payload from the tunnel's MQTT topic, or give -AccessToken."), "WrongClientMode"));
        }

        if (mode != Mode)
        {
            string cmdlet = mode == TunnelMode.Source ? "Start-TunnelSource" : "Start-TunnelDestination";
            ThrowTerminatingError(TunnelErrors.InvalidOptions(new ArgumentException(
                $"The input carries a {mode.ToWire()} access token (clientMode '{ClientMode}'), but {MyInvocation.MyCommand.Name} needs a {Mode.ToWire()} token. Pipe it to {cmdlet} instead."), "WrongClientMode"));
        }
    }

    private IReadOnlyList<ServiceMapping> ParseServices()
    {
        try
        {
            return ServiceArgument.Parse(Service, Mode);
        }
        catch (FormatException ex)
        {
            ThrowTerminatingError(TunnelErrors.InvalidService(ex, Service));
            throw; // not reached: ThrowTerminatingError always throws
        }
    }

    private Uri ResolveServiceUri()
    {
        try
        {
            if (!string.IsNullOrWhiteSpace(Endpoint))
            {
                // An endpoint (typed, or a local tunnel's) wins over a region the input implies;
                // only a region and an endpoint both typed by the user conflict.
                return TunnelEndpoint.Resolve(_regionOnCommandLine && _endpointOnCommandLine ? Region : null, Endpoint, ProxySettings.Default);
            }

            string? region = RegionResolver.Resolve(Region, TunnelArn, SessionState);
            if (region is null)
            {
                ThrowTerminatingError(TunnelErrors.InvalidOptions(new ArgumentException(
                    "No region was given and none was found. Give -Region (e.g. -Region us-east-1), pipe an object with TunnelArn, or set AWSIOT_TUNNEL_REGION, $StoredAWSRegion (Set-DefaultAWSRegion) or AWS_REGION."), "NoRegion"));
            }

            return TunnelEndpoint.Resolve(region, null, ProxySettings.Default);
        }
        catch (ArgumentException ex)
        {
            ThrowTerminatingError(TunnelErrors.InvalidOptions(ex, "InvalidEndpoint"));
            throw; // not reached
        }
    }

    private X509Certificate2Collection? TrustedCollection()
    {
        var certificates = TrustedCertificate?.Where(c => c is not null).ToArray();
        return certificates is { Length: > 0 } ? new X509Certificate2Collection(certificates) : null;
    }

    private string Describe(IReadOnlyList<ServiceMapping> services, Uri serviceUri) =>
        services.Count == 0
            ? $"{MyInvocation.MyCommand.Name} -Endpoint {serviceUri}"
            : $"{MyInvocation.MyCommand.Name} -Service {string.Join(",", services)} -Endpoint {serviceUri}";

    private string? DefaultName(string? tunnelId) =>
        tunnelId is null ? null : $"{Mode}-{tunnelId[..Math.Min(8, tunnelId.Length)]}";
}
