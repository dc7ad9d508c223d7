using AwsTunnel.Engine.Protocol;
using AwsTunnel.Engine.Settings;
using AwsTunnel.Engine.Transport;
using AwsTunnel.Engine.Tunnel;
using Microsoft.Extensions.Logging;

namespace AwsTunnel.Cli;

/// <summary>
/// The proxy's flags as typed, and their translation into <see cref="TunnelOptions"/>.
/// Every rule a flag breaks becomes a <see cref="UsageException"/> naming the flag.
/// Tokens never appear in a message.
/// </summary>
internal sealed record ProxyArguments
{
    public const string AccessTokenVariable = "AWSIOT_TUNNEL_ACCESS_TOKEN";
    public const string RegionVariable = "AWSIOT_TUNNEL_REGION";
    public const string EndpointVariable = "AWSIOT_TUNNEL_ENDPOINT";

    public string? AccessToken { get; init; }
    public string? ClientToken { get; init; }
    public string? Region { get; init; }
    public string? Endpoint { get; init; }
    public string? SourcePorts { get; init; }
    public string? DestinationApps { get; init; }
    public string? Mode { get; init; }
    public string? BindAddress { get; init; }
    public string? CaPath { get; init; }
    public bool NoSslHostVerify { get; init; }
    public string? DestinationClientType { get; init; }
    public string? Verbose { get; init; }

    /// <summary>--config FILE: the reference's file of <c>option = value</c> lines.</summary>
    public string? ConfigPath { get; init; }

    /// <summary>--config-dir DIR: service mappings; null = the default directory beside the binary, if it exists.</summary>
    public string? ConfigDirectory { get; init; }

    /// <summary>--settings-json FILE: the fine-grained settings.</summary>
    public string? SettingsJson { get; init; }

    /// <summary>Where the default service configuration directory is looked for; tests point it elsewhere.</summary>
    public string BaseDirectory { get; init; } = AppContext.BaseDirectory;

    /// <summary>The options given as flags, by their long names (only those given).</summary>
    private Dictionary<string, string> FlagValuesByName()
    {
        var flags = new Dictionary<string, string>(StringComparer.Ordinal);
        void Add(string key, string? value)
        {
            if (value is not null)
            {
                flags[key] = value;
            }
        }

        Add("access-token", string.IsNullOrWhiteSpace(AccessToken) ? null : AccessToken);
        Add("client-token", ClientToken);
        Add("region", string.IsNullOrWhiteSpace(Region) ? null : Region);
        Add("proxy-endpoint", string.IsNullOrWhiteSpace(Endpoint) ? null : Endpoint);
        Add("source-listen-port", SourcePorts);
        Add("destination-app", DestinationApps);
        Add("mode", Mode);
        Add("local-bind-address", BindAddress);
        Add("capath", CaPath);
        Add("verbose", Verbose);
        Add("destination-client-type", DestinationClientType);
        Add("config-dir", ConfigDirectory);
        Add("settings-json", SettingsJson);
        if (NoSslHostVerify)
        {
            flags[ConfigFile.NoSslHostVerify] = "true";
        }

        return flags;
    }

    /// <summary>
    /// Applies <see cref="ConfigPath"/>: options the flags leave out are taken from the file
    /// (flags &gt; config file &gt; environment; the environment is applied later, per option).
    /// </summary>
    /// <exception cref="UsageException">the file is missing or malformed (the message names the file and line).</exception>
    public ProxyArguments WithConfigFile(CliContext context, ILogger? logger)
    {
        if (ConfigPath is null)
        {
            return this;
        }

        IReadOnlyDictionary<string, OptionValue> merged;
        try
        {
            var file = ConfigFile.Load(ConfigPath, logger);
            merged = OptionPrecedence.Merge(FlagValuesByName(), file, ConfigPath, ReadEnvironment(context));
        }
        catch (SettingsException ex)
        {
            throw new UsageException(ex.Message, ex);
        }

        // Values from the environment are left to the per-option rules below, which name the variables.
        string? Get(string key) =>
            merged.TryGetValue(key, out var v) && (v.Source == OptionPrecedence.CommandLine || v.Source.StartsWith("config file ", StringComparison.Ordinal))
                ? v.Value
                : null;

        if (Get("region") is not null && Get("proxy-endpoint") is not null && merged["region"].Source != merged["proxy-endpoint"].Source)
        {
            throw new UsageException(
                $"a region (from {merged["region"].Source}) and an endpoint (from {merged["proxy-endpoint"].Source}) were both given; they are mutually exclusive. Remove one of them.");
        }

        return this with
        {
            AccessToken = Get("access-token"),
            ClientToken = Get("client-token"),
            Region = Get("region"),
            Endpoint = Get("proxy-endpoint"),
            SourcePorts = Get("source-listen-port"),
            DestinationApps = Get("destination-app"),
            Mode = Get("mode"),
            BindAddress = Get("local-bind-address"),
            CaPath = Get("capath"),
            Verbose = Get("verbose"),
            DestinationClientType = Get("destination-client-type"),
            ConfigDirectory = Get("config-dir"),
            SettingsJson = Get("settings-json"),
            NoSslHostVerify = Get(ConfigFile.NoSslHostVerify) == "true",
            ConfigPath = null,
        };
    }

    private static TunnelEnvironment ReadEnvironment(CliContext context) => TunnelEnvironment.Read(context.Variable);

    /// <summary>Builds validated options; the environment fills in what the flags leave out.</summary>
    /// <exception cref="UsageException">a flag or variable is wrong or missing.</exception>
    public TunnelOptions ToTunnelOptions(CliContext context, ILoggerFactory loggerFactory)
    {
        var logger = loggerFactory.CreateLogger("AwsTunnel.Cli");
        var settings = LoadSettings(logger);
        var mode = ResolveMode();
        var services = mode == TunnelMode.Source
            ? ParseMappings(SourcePorts, "-s/--source-listen-port")
            : ParseMappings(DestinationApps, "-d/--destination-app");
        var configDirectoryServices = LoadConfigDirectory(logger);
        if (mode == TunnelMode.Destination && services.Count == 0 && configDirectoryServices.Count == 0)
        {
            throw new UsageException("destination mode needs -d/--destination-app or a --config-dir with SERVICE=HOST:PORT lines: give the target, e.g. -d 22 or -d SSH1=127.0.0.1:22.");
        }

        var options = new TunnelOptions
        {
            Mode = mode,
            ServiceUri = ResolveServiceUri(context, settings),
            AccessToken = ResolveAccessToken(context),
            ClientToken = ResolveClientToken(),
            Services = services,
            BindAddress = ResolveBindAddress(mode),
            DestinationClientType = ResolveDestinationClientType(mode),
            CertificateAuthorityPath = ResolveCaPath(),
            SkipCertificateCheck = NoSslHostVerify,
            ConfigDirectoryServices = configDirectoryServices,
            WebProxy = ResolveWebProxy(context, logger),
            Settings = settings,
            LoggerFactory = loggerFactory,
        };

        try
        {
            options.Validate();
        }
        catch (ArgumentException ex)
        {
            throw new UsageException(ex.Message, ex);
        }

        return options;
    }

    private ProxySettings LoadSettings(ILogger logger)
    {
        if (string.IsNullOrWhiteSpace(SettingsJson))
        {
            return ProxySettings.Default;
        }

        try
        {
            return ProxySettingsJson.Load(SettingsJson, logger);
        }
        catch (SettingsException ex)
        {
            throw new UsageException($"--settings-json: {ex.Message}", ex);
        }
    }

    private IReadOnlyList<ServiceMapping> LoadConfigDirectory(ILogger logger)
    {
        string? directory = ConfigDirectory;
        if (string.IsNullOrWhiteSpace(directory))
        {
            string fallback = ServiceConfigDirectory.DefaultDirectory(BaseDirectory);
            if (!Directory.Exists(fallback))
            {
                return Array.Empty<ServiceMapping>();
            }

            directory = fallback;
        }

        try
        {
            return ServiceConfigDirectory.Load(directory, logger);
        }
        catch (SettingsException ex)
        {
            throw new UsageException($"--config-dir: {ex.Message}", ex);
        }
    }

    private static System.Net.IWebProxy? ResolveWebProxy(CliContext context, ILogger logger)
    {
        try
        {
            return WebProxyResolver.FromEnvironment(ReadEnvironment(context), logger);
        }
        catch (ArgumentException ex)
        {
            throw new UsageException(ex.Message, ex);
        }
    }

    private TunnelMode ResolveMode()
    {
        bool hasSource = SourcePorts is not null;
        bool hasDestination = DestinationApps is not null;
        if (Mode is not null)
        {
            var mode = FlagValues.ParseMode(Mode, "-m/--mode");
            if (mode == TunnelMode.Source && hasDestination)
            {
                throw new UsageException("-d/--destination-app applies to destination mode, but -m/--mode is source. Give -s/--source-listen-port for a source.");
            }

            if (mode == TunnelMode.Destination && hasSource)
            {
                throw new UsageException("-s/--source-listen-port applies to source mode, but -m/--mode is destination. Give -d/--destination-app for a destination.");
            }

            return mode;
        }

        return (hasSource, hasDestination) switch
        {
            (true, true) => throw new UsageException(
                "-s/--source-listen-port and -d/--destination-app were both given, so the mode is unclear. Add -m/--mode source or -m/--mode destination."),
            (true, false) => TunnelMode.Source,
            (false, true) => TunnelMode.Destination,
            _ => throw new UsageException(
                "no mode: give -s/--source-listen-port (source), -d/--destination-app (destination), or -m/--mode."),
        };
    }

    private static IReadOnlyList<ServiceMapping> ParseMappings(string? text, string flag)
    {
        if (text is null)
        {
            return Array.Empty<ServiceMapping>();
        }

        try
        {
            return ServiceMapping.ParseList(text, flag);
        }
        catch (FormatException ex)
        {
            throw new UsageException(ex.Message, ex);
        }
    }

    private Uri ResolveServiceUri(CliContext context, ProxySettings settings)
    {
        bool hasRegionFlag = !string.IsNullOrWhiteSpace(Region);
        bool hasEndpointFlag = !string.IsNullOrWhiteSpace(Endpoint);
        if (hasRegionFlag && hasEndpointFlag)
        {
            throw new UsageException("-r/--region and -e/--proxy-endpoint are mutually exclusive. Give one of them.");
        }

        if (hasRegionFlag || hasEndpointFlag)
        {
            return Resolve(Region, Endpoint, hasRegionFlag ? "-r/--region" : "-e/--proxy-endpoint", settings);
        }

        string? region = context.Variable(RegionVariable);
        string? endpoint = context.Variable(EndpointVariable);
        if (region is not null && endpoint is not null)
        {
            throw new UsageException($"{RegionVariable} and {EndpointVariable} are both set and are mutually exclusive. Unset one, or give -r/--region or -e/--proxy-endpoint.");
        }

        if (region is null && endpoint is null)
        {
            throw new UsageException(
                $"no region or endpoint: give -r/--region (e.g. us-east-1) or -e/--proxy-endpoint, or set {RegionVariable} or {EndpointVariable}.");
        }

        return Resolve(region, endpoint, region is not null ? RegionVariable : EndpointVariable, settings);
    }

    private static Uri Resolve(string? region, string? endpoint, string source, ProxySettings settings)
    {
        try
        {
            return TunnelEndpoint.Resolve(region, endpoint, settings);
        }
        catch (ArgumentException ex)
        {
            throw new UsageException($"{source}: {ex.Message}", ex);
        }
    }

    private string ResolveAccessToken(CliContext context) =>
        (string.IsNullOrWhiteSpace(AccessToken) ? context.Variable(AccessTokenVariable) : AccessToken.Trim())
        ?? throw new UsageException($"no access token: set {AccessTokenVariable} (recommended) or give -t/--access-token.");

    private string? ResolveClientToken()
    {
        if (ClientToken is null)
        {
            return null;
        }

        string token = ClientToken.Trim();
        return TunnelOptions.IsValidClientToken(token)
            ? token
            : throw new UsageException("-i/--client-token is invalid: it must match ^[a-zA-Z0-9-]{32,128}$ (32 to 128 letters, digits or '-'). A UUID works.");
    }

    private string? ResolveBindAddress(TunnelMode mode)
    {
        if (string.IsNullOrWhiteSpace(BindAddress))
        {
            return null;
        }

        return mode == TunnelMode.Source
            ? BindAddress.Trim()
            : throw new UsageException("-b/--local-bind-address is not supported in destination mode yet; it sets the address a source listens on.");
    }

    private ProtocolVersion ResolveDestinationClientType(TunnelMode mode)
    {
        if (DestinationClientType is null)
        {
            return ProtocolVersion.V3;
        }

        var version = FlagValues.ParseProtocolVersion(DestinationClientType, "-y/--destination-client-type");
        return mode == TunnelMode.Source
            ? version
            : throw new UsageException("-y/--destination-client-type applies to source mode only; a destination speaks what the service selects.");
    }

    private string? ResolveCaPath()
    {
        if (string.IsNullOrWhiteSpace(CaPath))
        {
            return null;
        }

        return Directory.Exists(CaPath)
            ? CaPath
            : throw new UsageException($"-c/--capath '{CaPath}' is not a directory. Give a directory of PEM or CRT certificate files.");
    }
}
