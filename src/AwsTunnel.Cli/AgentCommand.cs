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
internal static class AgentCommand
{
    public static Command Create(CliContext context)
    {
        var thing = new Option<string>("--thing-name", "--thing")
        {
            Description = "The thing (device) whose tunnel notifications are served ($aws/things/THING/tunnels/notify).",
            HelpName = "THING",
            Required = true,
        };
        var broker = new Option<string>("--broker")
        {
            Description = "The MQTT broker: the AWS IoT Core endpoint (xxxx-ats.iot.REGION.amazonaws.com, mqtts on 8883), HOST:PORT (mqtts), mqtts://HOST:PORT or mqtt://HOST:PORT.",
            HelpName = "BROKER",
            Required = true,
        };
        var cert = new Option<string?>("--cert") { Description = "The device certificate (PEM; or a .pfx/.p12 file) for mutual TLS.", HelpName = "FILE" };
        var key = new Option<string?>("--key") { Description = "The device certificate's private key (PEM).", HelpName = "FILE" };
        var rootCa = new Option<string?>("--root-ca")
        {
            Description = "The CA the broker's certificate is checked against besides the system's: a PEM file (AmazonRootCA1.pem for AWS IoT Core) or a directory.",
            HelpName = "FILE",
        };
        var clientId = new Option<string?>("--client-id") { Description = "The MQTT client id (default: the thing name).", HelpName = "ID" };
        var targets = new Option<string?>("--destination-app", "-d")
        {
            Description = $"Targets per service: SERVICE=HOST:PORT or SERVICE=PORT, comma-separated. Services named nowhere use the defaults {WellKnownServices.Describe()} on localhost.",
            HelpName = "TARGETS",
        };
        var maxTunnels = new Option<int?>("--max-tunnels")
        {
            Description = $"The most tunnels served at once (default {AgentOptions.DefaultMaxTunnels}); further notifications are skipped with a warning.",
            HelpName = "N",
        };
        var endpoint = new Option<string?>("--proxy-endpoint", "-e")
        {
            Description = "The tunneling service for every destination instead of the notification region's AWS endpoint (offline: the local service's ws:// or wss:// address).",
            HelpName = "ENDPOINT",
        };
        var caPath = new Option<string?>("--capath", "-c") { Description = "A directory of CA certificates trusted for the tunneling service.", HelpName = "DIR" };
        var noVerify = new Option<bool>("--no-ssl-host-verify", "-k") { Description = "Do not verify the tunneling service's certificate. Unsafe." };
        var settingsJson = new Option<string?>("--settings-json") { Description = "A JSON file of fine-grained settings for the destinations.", HelpName = "FILE" };
        var verbose = new Option<string?>("--verbose", "-v") { Description = "Log level on stderr, 0-6 (default 4, info).", HelpName = "0-6" };
        var startTimeout = new Option<int?>("--start-timeout")
        {
            Description = "Seconds the first broker connection, and each destination's start, may take (default 30).",
            HelpName = "SECONDS",
        };

        var command = new Command("agent",
            "Run a tunnel agent: subscribe to $aws/things/THING/tunnels/notify and start a destination for every tunnel opened for the thing. " +
            "A repeated notification changes nothing; a rotated token replaces its destination; broker losses are retried with backoff.")
        {
            thing, broker, cert, key, rootCa, clientId, targets, maxTunnels, endpoint, caPath, noVerify, settingsJson, verbose, startTimeout,
        };

        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var level = CliLogging.ParseVerbosity(parseResult.GetValue(verbose));
            using var loggerFactory = CliLogging.CreateFactory(level, context.Error);
            var logger = loggerFactory.CreateLogger("AwsTunnel.Cli");
            if (parseResult.GetValue(noVerify))
            {
                context.WriteWarning("-k/--no-ssl-host-verify: the tunneling service's certificate is not verified; the connection can be intercepted.");
            }

            var options = Build(parseResult, logger, loggerFactory, context,
                (thing, broker, cert, key, rootCa, clientId, targets, maxTunnels, endpoint, caPath, noVerify, settingsJson, startTimeout));
            return await RunAsync(options, context, cancellationToken);
        });

        return command;
    }

    private static AgentOptions Build(ParseResult parseResult, ILogger logger, ILoggerFactory loggerFactory, CliContext context,
        (Option<string> Thing, Option<string> Broker, Option<string?> Cert, Option<string?> Key, Option<string?> RootCa, Option<string?> ClientId,
         Option<string?> Targets, Option<int?> MaxTunnels, Option<string?> Endpoint, Option<string?> CaPath, Option<bool> NoVerify, Option<string?> SettingsJson, Option<int?> StartTimeout) o)
    {
        try
        {
            string? certFile = parseResult.GetValue(o.Cert);
            string? keyFile = parseResult.GetValue(o.Key);
            if (keyFile is not null && certFile is null)
            {
                throw new ArgumentException("--key needs --cert: give the certificate the key belongs to.");
            }

            string? settingsFile = parseResult.GetValue(o.SettingsJson);
            string? rootCa = parseResult.GetValue(o.RootCa);
            string? mappings = parseResult.GetValue(o.Targets);
            string? endpoint = parseResult.GetValue(o.Endpoint);
            var options = new AgentOptions
            {
                ThingName = parseResult.GetValue(o.Thing)!,
                Broker = BrokerAddress.Parse(parseResult.GetValue(o.Broker)!),
                ClientId = parseResult.GetValue(o.ClientId),
                ClientCertificate = certFile is null ? null : DeviceCertificates.LoadClientCertificate(certFile, keyFile),
                BrokerTrustedCertificates = rootCa is null ? null : DeviceCertificates.LoadAuthorities(rootCa),
                Services = string.IsNullOrWhiteSpace(mappings) ? Array.Empty<ServiceMapping>() : ServiceMapping.ParseList(mappings, "-d/--destination-app"),
                MaxTunnels = parseResult.GetValue(o.MaxTunnels) ?? AgentOptions.DefaultMaxTunnels,
                TunnelEndpoint = endpoint is null ? null : TunnelEndpoint.FromEndpoint(endpoint),
                CertificateAuthorityPath = parseResult.GetValue(o.CaPath),
                SkipCertificateCheck = parseResult.GetValue(o.NoVerify),
                WebProxy = WebProxyResolver.FromEnvironment(TunnelEnvironment.Read(context.Variable), logger),
                Settings = settingsFile is null ? ProxySettings.Default : ProxySettingsJson.Load(settingsFile, logger),
                LoggerFactory = loggerFactory,
            };
            if (parseResult.GetValue(o.StartTimeout) is { } seconds)
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
