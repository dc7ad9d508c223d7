using System.Collections;
using System.Management.Automation;
using System.Net;
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
    private bool _serviceOnCommandLine;

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

    /// <summary>
    /// <para type="description">A settings JSON file in the reference local proxy's shape (as written by Export-TunnelSettings or localproxy --export-default-settings). Keys it lacks keep their defaults; unknown keys are ignored with a warning.</para>
    /// </summary>
    [Parameter]
    [Alias("SettingsJson")]
    [ValidateNotNullOrEmpty]
    public string? SettingsPath { get; set; }

    /// <summary>
    /// <para type="description">One-off settings overrides, applied after -SettingsPath: a hashtable of dotted keys relative to tunneling.proxy, e.g. @{ 'websocket.ping_period_ms' = 10000; 'tcp.max_active_connections' = 4 }. An unknown key or a malformed value is an InvalidSettings error.</para>
    /// </summary>
    [Parameter]
    [ArgumentCompleter(typeof(SettingKeyCompleter))]
    public Hashtable? Setting { get; set; }

    /// <summary>
    /// <para type="description">A directory whose files hold SERVICE=PORT (source) or SERVICE=HOST:PORT (destination) lines, like the reference's --config-dir. Its mappings are used for the services the tunnel announces when -Service is not typed (service ids bound from a piped tunnel give way to it).</para>
    /// </summary>
    [Parameter]
    [Alias("ConfigDir")]
    [ValidateNotNullOrEmpty]
    public string? ConfigDirectory { get; set; }

    /// <summary>
    /// <para type="description">An HTTP web proxy for the connection to the service, e.g. http://proxy.example.com:3128 (https:// proxies too). Default: HTTPS_PROXY / https_proxy from the environment (lower case wins).</para>
    /// </summary>
    [Parameter]
    [ValidateNotNull]
    public Uri? Proxy { get; set; }

    /// <summary>
    /// <para type="description">The user name and password for -Proxy (basic authentication). Never shown or logged.</para>
    /// </summary>
    [Parameter]
    [Credential]
    [ValidateNotNull]
    public PSCredential? ProxyCredential { get; set; }

    /// <summary>
    /// <para type="description">Connect directly, ignoring HTTPS_PROXY / https_proxy. Cannot be combined with -Proxy.</para>
    /// </summary>
    [Parameter]
    public SwitchParameter NoProxy { get; set; }

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
        _serviceOnCommandLine = MyInvocation.BoundParameters.ContainsKey(nameof(Service));
    }

    /// <inheritdoc />
    protected override void ProcessRecord()
    {
        CheckClientMode();
        var log = new SessionLog(LogLevel.Debug);
        var loggerFactory = log.CreateFactory();
        var settingsLogger = loggerFactory.CreateLogger("AwsTunnel.Settings");
        var settings = LoadSettings(settingsLogger);
        var configDirectoryServices = LoadConfigDirectory(settingsLogger);
        var environment = TunnelEnvironment.FromProcess();
        var shared = SharedOptions(environment);
        var webProxy = ResolveWebProxy(environment, settingsLogger);
        // With -ConfigDirectory, the service ids a piped tunnel carries (bare ids, no ports or
        // targets) give way to the directory's mappings; a typed -Service still wins.
        var services = ConfigDirectory is not null && !_serviceOnCommandLine ? Array.Empty<ServiceMapping>() : ParseServices();
        var serviceUri = ResolveServiceUri(shared, settings, settingsLogger);
        string? clientToken = ResolveClientToken(shared);
        string? tunnelId = TunnelId ?? TunnelArnParser.GetTunnelId(TunnelArn);
        string target = tunnelId ?? serviceUri.ToString();

        TunnelClient client;
        try
        {
            client = new TunnelClient(Complete(new TunnelOptions
            {
                Mode = Mode,
                ServiceUri = serviceUri,
                AccessToken = AccessTokenValue,
                ClientToken = clientToken,
                Services = services,
                CertificateAuthorityPath = CertificatePath is null ? null : SessionState.Path.GetUnresolvedProviderPathFromPSPath(CertificatePath),
                CertificateAuthorityOption = "-CertificatePath",
                TrustedCertificates = TrustedCollection(),
                SkipCertificateCheck = SkipCertificateCheck,
                StartTimeout = StartTimeout,
                Settings = settings,
                WebProxy = webProxy,
                ConfigDirectoryServices = configDirectoryServices,
                LoggerFactory = loggerFactory,
            }));
        }
        catch (SettingsException ex)
        {
            ThrowTerminatingError(TunnelErrors.InvalidSettings(ex));
            return;
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
            log.RelayUntil(this, client.StartAsync(cancel.Token));
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

    private ProxySettings LoadSettings(ILogger logger)
    {
        try
        {
            string? path = SettingsPath is null ? null : SessionState.Path.GetUnresolvedProviderPathFromPSPath(SettingsPath);
            return SettingArgument.Resolve(path, Setting, logger);
        }
        catch (SettingsException ex)
        {
            ThrowTerminatingError(TunnelErrors.InvalidSettings(ex));
            throw; // not reached
        }
    }

    private IReadOnlyList<ServiceMapping> LoadConfigDirectory(ILogger logger)
    {
        if (ConfigDirectory is null)
        {
            return Array.Empty<ServiceMapping>();
        }

        try
        {
            return ServiceConfigDirectory.Load(SessionState.Path.GetUnresolvedProviderPathFromPSPath(ConfigDirectory), logger);
        }
        catch (SettingsException ex)
        {
            ThrowTerminatingError(TunnelErrors.InvalidSettings(ex, "InvalidConfigDirectory"));
            throw; // not reached
        }
    }

    /// <summary>-Proxy/-ProxyCredential, else nothing with -NoProxy, else HTTPS_PROXY/https_proxy.</summary>
    private IWebProxy? ResolveWebProxy(TunnelEnvironment environment, ILogger logger)
    {
        try
        {
            if (NoProxy && Proxy is not null)
            {
                throw new ArgumentException("-Proxy and -NoProxy cannot be used together. Give -Proxy to use a web proxy, or -NoProxy to connect directly.");
            }

            if (ProxyCredential is not null && Proxy is null)
            {
                throw new ArgumentException("-ProxyCredential needs -Proxy. Give the web proxy's address with -Proxy, e.g. -Proxy http://proxy.example.com:3128.");
            }

            return WebProxyResolver.Resolve(Proxy, ProxyCredential?.GetNetworkCredential(), NoProxy, environment, logger);
        }
        catch (ArgumentException ex)
        {
            ThrowTerminatingError(TunnelErrors.InvalidOptions(ex, "InvalidProxy"));
            throw; // not reached
        }
    }

    /// <summary>The options shared with the CLI, resolved by the engine's one rule (typed &gt; piped &gt; TunnelArn &gt; environment &gt; AWS defaults).</summary>
    private OptionResolver SharedOptions(TunnelEnvironment environment)
    {
        string? arnRegion = TunnelArnParser.TryGetRegion(TunnelArn, out var fromArn) ? fromArn : null;
        return new OptionResolver()
            .Add(OptionResolver.Region, Region, "-Region", _regionOnCommandLine ? OptionOrigin.Typed : OptionOrigin.Pipeline)
            .Add(OptionResolver.Endpoint, Endpoint, "-Endpoint", _endpointOnCommandLine ? OptionOrigin.Typed : OptionOrigin.Pipeline)
            .Add(OptionResolver.ClientToken, ClientToken, "-ClientToken", OptionOrigin.Typed)
            .Add(OptionResolver.Region, arnRegion, "the TunnelArn", OptionOrigin.Derived)
            .AddEnvironment(environment)
            .AddAmbientRegions(environment, SessionState.PSVariable.GetValue("StoredAWSRegion") as string);
    }

    private Uri ResolveServiceUri(OptionResolver shared, ProxySettings settings, ILogger logger)
    {
        try
        {
            return shared.ResolveServiceUri(settings,
                "Give -Region (e.g. -Region us-east-1) or -Endpoint, pipe an object with TunnelArn, or set AWSIOT_TUNNEL_REGION, $StoredAWSRegion (Set-DefaultAWSRegion) or AWS_REGION.",
                logger);
        }
        catch (ArgumentException ex)
        {
            ThrowTerminatingError(TunnelErrors.InvalidOptions(ex, shared.Get(OptionResolver.Region) is null && shared.Get(OptionResolver.Endpoint) is null ? "NoRegion" : "InvalidEndpoint"));
            throw; // not reached
        }
    }

    private string? ResolveClientToken(OptionResolver shared)
    {
        try
        {
            return shared.ResolveClientToken();
        }
        catch (ArgumentException ex)
        {
            ThrowTerminatingError(TunnelErrors.InvalidOptions(ex));
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
