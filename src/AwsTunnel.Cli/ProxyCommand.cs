using System.CommandLine;
using AwsTunnel.Engine.Settings;
using Microsoft.Extensions.Logging;

namespace AwsTunnel.Cli;

/// <summary>
/// The root command: the reference local proxy's flags, translated into engine options
/// and run as one session.
/// </summary>
internal sealed class ProxyCommand
{
    private readonly CliContext _context;

    private readonly Option<string?> _accessToken = new("--access-token", "-t")
    {
        Description = $"The tunnel's source or destination access token. Prefer the {ProxyArguments.AccessTokenVariable} environment variable: command lines are visible to other users.",
        HelpName = "TOKEN",
    };

    private readonly Option<string?> _clientToken = new("--client-token", "-i")
    {
        Description = "A client token (^[a-zA-Z0-9-]{32,128}$, e.g. a UUID) sent on every connect so reconnects and restarts can reuse the access token (or AWSIOT_TUNNEL_CLIENT_TOKEN).",
        HelpName = "TOKEN",
    };

    private readonly Option<string?> _region = new("--region", "-r")
    {
        Description = $"The region the tunnel was opened in, e.g. us-east-1 (or {ProxyArguments.RegionVariable}).",
        HelpName = "REGION",
    };

    private readonly Option<string?> _endpoint = new("--proxy-endpoint", "-e")
    {
        Description = $"The service endpoint instead of a region: HOST[:PORT] (wss), ws://… or wss://… (or {ProxyArguments.EndpointVariable}).",
        HelpName = "ENDPOINT",
    };

    private readonly Option<string?> _sourcePorts = new("--source-listen-port", "-s")
    {
        Description = "Source mode: where to listen, e.g. 5555 or SSH1=5555,SSH2=6666 (0 = a free port).",
        HelpName = "PORTS",
    };

    private readonly Option<string?> _destinationApps = new("--destination-app", "-d")
    {
        Description = "Destination mode: where to connect, e.g. 22, host:22 or SSH1=host:22,HTTP=[::1]:80.",
        HelpName = "TARGETS",
    };

    private readonly Option<string?> _mode = new("--mode", "-m")
    {
        Description = "source (src) or destination (dst). Inferred from -s or -d when absent.",
        HelpName = "MODE",
    };

    private readonly Option<string?> _bindAddress = new("--local-bind-address", "-b")
    {
        Description = "Source mode: the address to listen on (default localhost). Destination mode: the host of targets given as a port alone.",
        HelpName = "ADDRESS",
    };

    private readonly Option<string?> _caPath = new("--capath", "-c")
    {
        Description = "A directory of PEM/CRT CA certificates trusted in addition to the system's.",
        HelpName = "DIR",
    };

    private readonly Option<bool> _noSslHostVerify = new("--no-ssl-host-verify", "-k")
    {
        Description = "Do not verify the service's certificate. Unsafe: the connection can be intercepted.",
    };

    private readonly Option<string?> _verbose = new("--verbose", "-v")
    {
        Description = "Log level on stderr: 0 off, 1 fatal, 2 error, 3 warning, 4 info (default), 5 debug, 6 trace (and above).",
        HelpName = "0-6",
    };

    private readonly Option<string?> _destinationClientType = new("--destination-client-type", "-y")
    {
        Description = "The peer's protocol, V1, V2 or V3 (default). V1/V2: no connection ids from a source; V1: no service ids. Other values mean V3, with a warning.",
        HelpName = "V1|V2|V3",
    };

    private readonly Option<string?> _config = new("--config")
    {
        Description = "A file of 'option = value' lines (long option names, e.g. region = us-east-1, source-listen-port = 5555). Flags override the file; the file overrides the environment.",
        HelpName = "FILE",
    };

    private readonly Option<string?> _configDir = new("--config-dir")
    {
        Description = "A directory whose files hold SERVICE=PORT (source) or SERVICE=HOST:PORT (destination) lines, used for the services the tunnel announces when -s/-d give none (default: ./config in the working directory, if it exists).",
        HelpName = "DIR",
    };

    private readonly Option<string?> _settingsJson = new("--settings-json")
    {
        Description = "A JSON file of fine-grained settings (as written by --export-default-settings); keys it lacks keep their defaults.",
        HelpName = "FILE",
    };

    private readonly Option<string?> _exportDefaultSettings = new("--export-default-settings")
    {
        Description = "Write the default fine-grained settings as JSON to FILE, for editing and --settings-json, and exit.",
        HelpName = "FILE",
    };

    public ProxyCommand(CliContext context) => _context = context;

    /// <summary>Adds the flags and the action to the root command.</summary>
    public void AddTo(RootCommand root)
    {
        foreach (var option in new Option[]
                 {
                     _accessToken, _clientToken, _region, _endpoint, _sourcePorts, _destinationApps, _mode,
                     _bindAddress, _caPath, _noSslHostVerify, _verbose, _destinationClientType,
                     _config, _configDir, _settingsJson, _exportDefaultSettings,
                 })
        {
            root.Add(option);
        }

        root.SetAction(RunAsync);
    }

    private async Task<int> RunAsync(ParseResult parseResult, CancellationToken cancellationToken)
    {
        if (parseResult.GetValue(_exportDefaultSettings) is { } exportPath)
        {
            return ExportDefaultSettings(exportPath);
        }

        var arguments = new ProxyArguments
        {
            AccessToken = parseResult.GetValue(_accessToken),
            ClientToken = parseResult.GetValue(_clientToken),
            Region = parseResult.GetValue(_region),
            Endpoint = parseResult.GetValue(_endpoint),
            SourcePorts = parseResult.GetValue(_sourcePorts),
            DestinationApps = parseResult.GetValue(_destinationApps),
            Mode = parseResult.GetValue(_mode),
            BindAddress = parseResult.GetValue(_bindAddress),
            CaPath = parseResult.GetValue(_caPath),
            NoSslHostVerify = parseResult.GetValue(_noSslHostVerify),
            DestinationClientType = parseResult.GetValue(_destinationClientType),
            Verbose = parseResult.GetValue(_verbose),
            ConfigPath = parseResult.GetValue(_config),
            ConfigDirectory = parseResult.GetValue(_configDir),
            SettingsJson = parseResult.GetValue(_settingsJson),
        };

        // The config file may set the verbosity; while it is read, the flag's (or the default) applies.
        OptionResolver sources;
        using (var fileLoggerFactory = CliLogging.CreateFactory(CliLogging.ParseVerbosity(arguments.Verbose), _context.Error))
        {
            sources = arguments.ReadSources(_context, fileLoggerFactory.CreateLogger("AwsTunnel.Cli"));
        }

        using var loggerFactory = CliLogging.CreateFactory(ProxyArguments.ResolveVerbosity(sources), _context.Error);
        // Warnings are log records, as in the reference: -v 0 silences them too.
        var logger = loggerFactory.CreateLogger("AwsTunnel.Cli");
        if (ProxyArguments.TokenOnCommandLine(sources))
        {
            logger.LogWarning(
                "-t/--access-token puts the token on the command line, where other users of this machine can read it. Set {Variable} instead.",
                ProxyArguments.AccessTokenVariable);
        }

        if (ProxyArguments.SkipsCertificateCheck(sources))
        {
            logger.LogWarning("{Source}: the service's certificate is not verified; the connection can be intercepted.",
                sources.Get(ConfigFile.NoSslHostVerify)!.Source);
        }

        var options = arguments.ToTunnelOptions(sources, _context, loggerFactory);
        return await ProxySession.RunAsync(options, _context, cancellationToken);
    }

    private int ExportDefaultSettings(string path)
    {
        try
        {
            ProxySettingsJson.ExportToFile(ProxySettings.Default, path);
        }
        catch (SettingsException ex)
        {
            throw new UsageException($"--export-default-settings: {ex.Message}", ex);
        }

        _context.Out.WriteLine($"Wrote the default settings to {Path.GetFullPath(path)}");
        return ExitCodes.Success;
    }
}
