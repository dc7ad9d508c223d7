using System.CommandLine;
using System.Globalization;
using AwsTunnel.Engine.Agent;
using AwsTunnel.Engine.Settings;
using AwsTunnel.Engine.Transport;
using AwsTunnel.Engine.Tunnel;
using Microsoft.Extensions.Logging;

namespace AwsTunnel.Cli;

/// <summary>
/// <c>awstunnel agent</c>: the device side. Subscribes to the thing's notify topic and starts a
/// destination for every tunnel opened for it, until Ctrl+C or SIGTERM (which stop them all).
/// </summary>
internal sealed class AgentCommand
{
    private readonly CliContext _context;

    private readonly Option<string> _thing = new("--thing-name", "--thing")
    {
        Description = "The thing (device) whose tunnel notifications are served ($aws/things/THING/tunnels/notify).",
        HelpName = "THING",
        Required = true,
    };

    private readonly Option<string> _broker = new("--broker")
    {
        Description = "The MQTT broker: the AWS IoT Core endpoint (xxxx-ats.iot.REGION.amazonaws.com, mqtts on 8883), HOST:PORT (mqtts), mqtts://HOST:PORT or mqtt://HOST:PORT.",
        HelpName = "BROKER",
        Required = true,
    };

    private readonly Option<string?> _cert = new("--cert") { Description = "The device certificate (PEM; or a .pfx/.p12 file) for mutual TLS.", HelpName = "FILE" };

    private readonly Option<string?> _key = new("--key") { Description = "The device certificate's private key (PEM).", HelpName = "FILE" };

    private readonly Option<string?> _rootCa = new("--root-ca")
    {
        Description = "The CA the broker's certificate is checked against besides the system's: a PEM file (AmazonRootCA1.pem for AWS IoT Core) or a directory.",
        HelpName = "FILE",
    };

    private readonly Option<string?> _clientId = new("--client-id") { Description = "The MQTT client id (default: the thing name).", HelpName = "ID" };

    private readonly Option<string?> _targets = new("--destination-app", "-d")
    {
        Description = $"Targets per service: SERVICE=HOST:PORT or SERVICE=PORT, comma-separated. Services named nowhere use the defaults {WellKnownServices.Describe()} on localhost.",
        HelpName = "TARGETS",
    };

    private readonly Option<int?> _maxTunnels = new("--max-tunnels")
    {
        Description = $"The most tunnels served at once (default {AgentOptions.DefaultMaxTunnels}); further notifications are skipped with a warning.",
        HelpName = "N",
    };

    private readonly Option<string?> _endpoint = new("--proxy-endpoint", "-e")
    {
        Description = "The tunneling service for every destination instead of the notification region's AWS endpoint (offline: the local service's ws:// or wss:// address).",
        HelpName = "ENDPOINT",
    };

    private readonly Option<string?> _caPath = new("--capath", "-c") { Description = "A directory of CA certificates trusted for the tunneling service.", HelpName = "DIR" };

    private readonly Option<bool> _noVerify = new("--no-ssl-host-verify", "-k") { Description = "Do not verify the tunneling service's certificate. Unsafe." };

    private readonly Option<string?> _settingsJson = new("--settings-json") { Description = "A JSON file of fine-grained settings for the destinations.", HelpName = "FILE" };

    private readonly Option<string?> _verbose = new("--verbose", "-v") { Description = "Log level on stderr, 0-6 (default 4, info).", HelpName = "0-6" };

    private readonly Option<int?> _startTimeout = new("--start-timeout")
    {
        Description = "Seconds the first broker connection, and each destination's start, may take (default 30).",
        HelpName = "SECONDS",
    };

    private AgentCommand(CliContext context) => _context = context;

    public static Command Create(CliContext context) => new AgentCommand(context).Build();

    private Command Build()
    {
        var command = new Command("agent",
            "Run a tunnel agent: subscribe to $aws/things/THING/tunnels/notify and start a destination for every tunnel opened for the thing. " +
            "A repeated notification changes nothing; a rotated token replaces its destination; broker losses are retried with backoff.")
        {
            _thing, _broker, _cert, _key, _rootCa, _clientId, _targets, _maxTunnels, _endpoint, _caPath, _noVerify, _settingsJson, _verbose, _startTimeout,
        };

        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var level = CliLogging.ParseVerbosity(parseResult.GetValue(_verbose));
            using var loggerFactory = CliLogging.CreateFactory(level, _context.Error);
            if (parseResult.GetValue(_noVerify))
            {
                _context.WriteWarning("-k/--no-ssl-host-verify: the tunneling service's certificate is not verified; the connection can be intercepted.");
            }

            var options = ToOptions(parseResult, loggerFactory);
            return await RunAsync(options, _context, cancellationToken);
        });

        return command;
    }

    private AgentOptions ToOptions(ParseResult parseResult, ILoggerFactory loggerFactory)
    {
        var logger = loggerFactory.CreateLogger("AwsTunnel.Cli");
        try
        {
            string? certFile = parseResult.GetValue(_cert);
            string? keyFile = parseResult.GetValue(_key);
            if (keyFile is not null && certFile is null)
            {
                throw new ArgumentException("--key needs --cert: give the certificate the key belongs to.");
            }

            string? settingsFile = parseResult.GetValue(_settingsJson);
            string? rootCa = parseResult.GetValue(_rootCa);
            string? mappings = parseResult.GetValue(_targets);
            string? endpoint = parseResult.GetValue(_endpoint);
            var options = new AgentOptions
            {
                ThingName = parseResult.GetValue(_thing)!,
                Broker = BrokerAddress.Parse(parseResult.GetValue(_broker)!),
                ClientId = parseResult.GetValue(_clientId),
                ClientCertificate = certFile is null ? null : DeviceCertificates.LoadClientCertificate(certFile, keyFile),
                BrokerTrustedCertificates = rootCa is null ? null : DeviceCertificates.LoadAuthorities(rootCa),
                Services = string.IsNullOrWhiteSpace(mappings) ? Array.Empty<ServiceMapping>() : ServiceMapping.ParseList(mappings, "-d/--destination-app"),
                MaxTunnels = parseResult.GetValue(_maxTunnels) ?? AgentOptions.DefaultMaxTunnels,
                TunnelEndpoint = endpoint is null ? null : TunnelEndpoint.FromEndpoint(endpoint),
                CertificateAuthorityPath = parseResult.GetValue(_caPath),
                SkipCertificateCheck = parseResult.GetValue(_noVerify),
                WebProxy = WebProxyResolver.FromEnvironment(TunnelEnvironment.Read(_context.Variable), logger),
                Settings = settingsFile is null ? ProxySettings.Default : ProxySettingsJson.Load(settingsFile, logger),
                LoggerFactory = loggerFactory,
            };
            if (parseResult.GetValue(_startTimeout) is { } seconds)
            {
                options = seconds > 0
                    ? options with { StartTimeout = TimeSpan.FromSeconds(seconds) }
                    : throw new ArgumentException($"--start-timeout {seconds} is not a number of seconds. Give a whole number above 0.");
            }

            options.Validate();
            return options;
        }
        catch (Exception ex) when (ex is ArgumentException or FormatException or SettingsException)
        {
            throw new UsageException(ex.Message, ex);
        }
    }

    private static async Task<int> RunAsync(AgentOptions options, CliContext context, CancellationToken cancellationToken)
    {
        await using var agent = new TunnelAgent(options);
        agent.TunnelStarted += (_, tunnel) =>
            context.Out.WriteLine($"Serving {tunnel}: {string.Join(", ", tunnel.Targets.Select(t => $"{t.ServiceId} -> {ServiceMapping.FormatHostPort(t.Host ?? "localhost", t.Port)}"))}");
        agent.TunnelEnded += (_, tunnel) => context.Out.WriteLine($"Ended {tunnel}");
        try
        {
            await agent.StartAsync(cancellationToken);
        }
        catch (AgentStartException ex)
        {
            context.WriteError(ex.Message);
            return ExitCodes.Unreachable;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return ExitCodes.Success;
        }

        context.Out.WriteLine($"Subscribed to {agent.NotifyTopic} on {agent.Broker}; at most {options.MaxTunnels.ToString(CultureInfo.InvariantCulture)} tunnels. Press Ctrl+C to stop.");
        await context.Out.FlushAsync(CancellationToken.None);
        try
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
        }
        catch (OperationCanceledException)
        {
        }

        await agent.StopAsync();
        return ExitCodes.Success;
    }
}
