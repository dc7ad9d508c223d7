using AwsTunnel.Engine.Protocol;
using AwsTunnel.Engine.Settings;
using AwsTunnel.Engine.Transport;
using AwsTunnel.Engine.Tunnel;
using Microsoft.Extensions.Logging;

namespace AwsTunnel.Cli;

/// <summary>
/// The proxy's flags as typed, and their translation into <see cref="TunnelOptions"/> through
/// the engine's <see cref="OptionResolver"/> (flags &gt; <c>--config</c> file &gt; environment).
/// Every rule an input breaks becomes a <see cref="UsageException"/> naming where it came from.
/// Tokens never appear in a message.
/// </summary>
internal sealed record ProxyArguments
{
    public const string AccessTokenVariable = TunnelEnvironment.AccessTokenVariable;
    public const string RegionVariable = TunnelEnvironment.TunnelRegionVariable;
    public const string EndpointVariable = TunnelEnvironment.EndpointVariable;

    // The long option names, as the reference's --config file spells them.
    private const string SourceListenPort = "source-listen-port";
    private const string DestinationApp = "destination-app";
    private const string ModeKey = "mode";
    private const string LocalBindAddress = "local-bind-address";
    private const string CaPathKey = "capath";
    private const string VerboseKey = "verbose";
    private const string DestinationClientTypeKey = "destination-client-type";
    private const string ConfigDir = "config-dir";
    private const string SettingsJsonKey = "settings-json";

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

    /// <summary>--config-dir DIR: service mappings; null = <c>./config</c> in <see cref="WorkingDirectory"/>, if it exists.</summary>
    public string? ConfigDirectory { get; init; }

    /// <summary>--settings-json FILE: the fine-grained settings.</summary>
    public string? SettingsJson { get; init; }

    /// <summary>Where the default <c>config</c> directory is looked for: the working directory, as the reference does; tests point it elsewhere.</summary>
    public string WorkingDirectory { get; init; } = Environment.CurrentDirectory;

    /// <summary>The flags that were given, each named as the user typed it (short/long form).</summary>
    private IEnumerable<(string Key, string? Value, string Flag)> Flags()
    {
        yield return (OptionResolver.AccessToken, AccessToken, "-t/--access-token");
        yield return (OptionResolver.ClientToken, ClientToken, "-i/--client-token");
        yield return (OptionResolver.Region, Region, "-r/--region");
        yield return (OptionResolver.Endpoint, Endpoint, "-e/--proxy-endpoint");
        yield return (SourceListenPort, SourcePorts, "-s/--source-listen-port");
        yield return (DestinationApp, DestinationApps, "-d/--destination-app");
        yield return (ModeKey, Mode, "-m/--mode");
        yield return (LocalBindAddress, BindAddress, "-b/--local-bind-address");
        yield return (CaPathKey, CaPath, "-c/--capath");
        yield return (VerboseKey, Verbose, "-v/--verbose");
        yield return (DestinationClientTypeKey, DestinationClientType, "-y/--destination-client-type");
        yield return (ConfigDir, ConfigDirectory, "--config-dir");
        yield return (SettingsJsonKey, SettingsJson, "--settings-json");
        yield return (ConfigFile.NoSslHostVerify, NoSslHostVerify ? "true" : null, "-k/--no-ssl-host-verify");
    }

    /// <summary>
    /// Every source of the options: the flags, the <c>--config</c> file (if any), then the
    /// environment. The verbosity is settled after this, so <paramref name="logger"/> runs at the flag's level.
    /// </summary>
    /// <exception cref="UsageException">the config file is missing or malformed (the message names the file and line).</exception>
    public OptionResolver ReadSources(CliContext context, ILogger? logger)
    {
        var sources = new OptionResolver();
        foreach (var (key, value, flag) in Flags())
        {
            sources.Add(key, value, flag, OptionOrigin.Typed);
        }

        if (ConfigPath is not null)
        {
            try
            {
                sources.AddConfigFile(ConfigFile.Load(ConfigPath, logger), ConfigPath);
            }
            catch (SettingsException ex)
            {
                throw new UsageException(ex.Message, ex);
            }
        }

        return sources.AddEnvironment(TunnelEnvironment.Read(context.Variable));
    }

    /// <summary>The <c>-v</c> level from the flag or the config file; info when neither gives one.</summary>
    /// <exception cref="UsageException">not a whole number from 0 to 65535.</exception>
    public static LogLevel ResolveVerbosity(OptionResolver sources) =>
        sources.Get(VerboseKey) is { } verbose ? CliLogging.ParseVerbosity(verbose.Value, verbose.Source) : CliLogging.ParseVerbosity(null);

    /// <summary>True when the access token was typed on the command line, where other users can read it.</summary>
    public static bool TokenOnCommandLine(OptionResolver sources) => sources.Get(OptionResolver.AccessToken)?.Origin == OptionOrigin.Typed;

    /// <summary>True when <c>-k</c> (or <c>no-ssl-host-verify = true</c> in the config file) turned certificate checks off.</summary>
    public static bool SkipsCertificateCheck(OptionResolver sources) => sources.Get(ConfigFile.NoSslHostVerify)?.Value == "true";

    /// <summary>Reads the sources (<see cref="ReadSources"/>) and builds validated options from them.</summary>
    /// <exception cref="UsageException">an input is wrong or missing.</exception>
    public TunnelOptions ToTunnelOptions(CliContext context, ILoggerFactory loggerFactory) =>
        ToTunnelOptions(ReadSources(context, loggerFactory.CreateLogger("AwsTunnel.Cli")), context, loggerFactory);

    /// <summary>Builds validated options from <paramref name="sources"/>.</summary>
    /// <exception cref="UsageException">an input is wrong or missing.</exception>
    public TunnelOptions ToTunnelOptions(OptionResolver sources, CliContext context, ILoggerFactory loggerFactory)
    {
        var logger = loggerFactory.CreateLogger("AwsTunnel.Cli");
        var settings = LoadSettings(sources.Get(SettingsJsonKey), logger);
        var mode = ResolveMode(sources);
        var mappings = sources.Get(mode == TunnelMode.Source ? SourceListenPort : DestinationApp);
        var services = ParseMappings(mappings);
        var configDirectoryServices = LoadConfigDirectory(sources.Get(ConfigDir), logger);
        var bind = sources.Get(LocalBindAddress);
        if (mode == TunnelMode.Destination && bind is not null)
        {
            // The reference's destination connects a target given as a port alone to the -b host.
            logger.LogInformation("{Source} in destination mode: targets given as a port alone connect to {Host}.", bind.Source, bind.Value);
            services = WithDefaultHost(services, bind.Value);
            configDirectoryServices = WithDefaultHost(configDirectoryServices, bind.Value);
        }

        if (mode == TunnelMode.Destination && services.Count == 0 && configDirectoryServices.Count == 0)
        {
            throw new UsageException("destination mode needs -d/--destination-app or a --config-dir (or ./config) with SERVICE=HOST:PORT lines: give the target, e.g. -d 22 or -d SSH1=127.0.0.1:22.");
        }

        var options = Usage(() => new TunnelOptions
        {
            Mode = mode,
            ServiceUri = sources.ResolveServiceUri(settings,
                $"Give -r/--region (e.g. us-east-1) or -e/--proxy-endpoint, or set {RegionVariable} or {EndpointVariable}.", logger),
            AccessToken = sources.ResolveAccessToken($"Set {AccessTokenVariable} (recommended) or give -t/--access-token."),
            ClientToken = sources.ResolveClientToken(),
            Services = services,
            BindAddress = mode == TunnelMode.Source ? bind?.Value : null,
            DestinationClientType = ResolveDestinationClientType(sources.Get(DestinationClientTypeKey), logger),
            CertificateAuthorityPath = ResolveCaPath(sources.Get(CaPathKey)),
            CertificateAuthorityOption = "-c/--capath",
            SkipCertificateCheck = SkipsCertificateCheck(sources),
            ConfigDirectoryServices = configDirectoryServices,
            WebProxy = WebProxyResolver.Resolve(null, null, direct: false, TunnelEnvironment.Read(context.Variable), logger),
            Settings = settings,
            LoggerFactory = loggerFactory,
        });

        Usage(options.Validate);
        return options;
    }

    /// <summary>Runs <paramref name="build"/>; an <see cref="ArgumentException"/> (which names its input) is a usage error.</summary>
    private static T Usage<T>(Func<T> build)
    {
        try
        {
            return build();
        }
        catch (ArgumentException ex)
        {
            throw new UsageException(ex.Message, ex);
        }
    }

    private static void Usage(Action check) => Usage(() =>
    {
        check();
        return true;
    });

    private static ProxySettings LoadSettings(OptionValue? path, ILogger logger)
    {
        if (path is null)
        {
            return ProxySettings.Default;
        }

        try
        {
            return ProxySettingsJson.Load(path.Value, logger);
        }
        catch (SettingsException ex)
        {
            throw new UsageException($"{path.Source}: {ex.Message}", ex);
        }
    }

    private IReadOnlyList<ServiceMapping> LoadConfigDirectory(OptionValue? given, ILogger logger)
    {
        string directory;
        string source;
        if (given is not null)
        {
            (directory, source) = (given.Value, given.Source);
        }
        else
        {
            // The reference reads ./config in the working directory when --config-dir is absent.
            directory = ServiceConfigDirectory.DefaultDirectory(WorkingDirectory);
            if (!Directory.Exists(directory))
            {
                return Array.Empty<ServiceMapping>();
            }

            source = "the default --config-dir ./config";
            logger.LogInformation("Reading service mappings from {Directory} (./config; --config-dir names another).", directory);
        }

        try
        {
            return ServiceConfigDirectory.Load(directory, logger);
        }
        catch (SettingsException ex)
        {
            throw new UsageException($"{source}: {ex.Message}", ex);
        }
    }

    private static IReadOnlyList<ServiceMapping> WithDefaultHost(IReadOnlyList<ServiceMapping> mappings, string host) =>
        mappings.Select(m => m.Host is null ? m with { Host = host } : m).ToList();

    private static TunnelMode ResolveMode(OptionResolver sources)
    {
        var source = sources.Get(SourceListenPort);
        var destination = sources.Get(DestinationApp);
        if (sources.Get(ModeKey) is { } given)
        {
            var mode = FlagValues.ParseMode(given.Value, given.Source);
            if (mode == TunnelMode.Source && destination is not null)
            {
                throw new UsageException($"{destination.Source} applies to destination mode, but {given.Source} is source. Give -s/--source-listen-port for a source.");
            }

            if (mode == TunnelMode.Destination && source is not null)
            {
                throw new UsageException($"{source.Source} applies to source mode, but {given.Source} is destination. Give -d/--destination-app for a destination.");
            }

            return mode;
        }

        return (source is not null, destination is not null) switch
        {
            (true, true) => throw new UsageException(
                $"{source!.Source} and {destination!.Source} were both given, so the mode is unclear. Add -m/--mode source or -m/--mode destination."),
            (true, false) => TunnelMode.Source,
            (false, true) => TunnelMode.Destination,
            _ => throw new UsageException(
                "no mode: give -s/--source-listen-port (source), -d/--destination-app (destination), or -m/--mode."),
        };
    }

    private static IReadOnlyList<ServiceMapping> ParseMappings(OptionValue? given)
    {
        if (given is null)
        {
            return Array.Empty<ServiceMapping>();
        }

        try
        {
            return ServiceMapping.ParseList(given.Value, given.Source);
        }
        catch (FormatException ex)
        {
            throw new UsageException(ex.Message, ex);
        }
    }

    /// <summary>
    /// <c>-y</c>: V1, V2 or V3, in either mode (the reference takes it in both; V1 then drops
    /// service ids from what this end sends). Anything else is V3 with a warning, as in the reference.
    /// </summary>
    private static ProtocolVersion ResolveDestinationClientType(OptionValue? given, ILogger logger)
    {
        if (given is null)
        {
            return ProtocolVersion.V3;
        }

        if (FlagValues.TryParseProtocolVersion(given.Value, out var version))
        {
            return version;
        }

        logger.LogWarning("{Source} '{Value}' is not V1, V2 or V3; using V3, as the reference proxy does.", given.Source, given.Value);
        return ProtocolVersion.V3;
    }

    private static string? ResolveCaPath(OptionValue? given)
    {
        if (given is null)
        {
            return null;
        }

        return Directory.Exists(given.Value)
            ? given.Value
            : throw new UsageException($"{given.Source} '{given.Value}' is not a directory. Give a directory of PEM or CRT certificate files.");
    }
}
