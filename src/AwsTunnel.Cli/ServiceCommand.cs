using System.CommandLine;
using System.Globalization;
using System.Net;
using AwsTunnel.Engine.Agent;
using AwsTunnel.Engine.Protocol;
using AwsTunnel.Engine.Service;
using Microsoft.Extensions.Logging;

namespace AwsTunnel.Cli;

/// <summary>
/// <c>awstunnel service</c>: runs the local tunneling service, opens the tunnels asked for
/// and prints their tokens and example command lines, until Ctrl+C or SIGTERM.
/// </summary>
internal static class ServiceCommand
{
    public static Command Create(CliContext context)
    {
        var port = new Option<int>("--port") { Description = "The port to listen on (default 0: a free port).", HelpName = "PORT" };
        var address = new Option<string>("--address")
        {
            Description = "The address to listen on.",
            HelpName = "ADDRESS",
            DefaultValueFactory = _ => "127.0.0.1",
        };
        var tls = new Option<bool>("--tls") { Description = "Serve wss:// with a self-signed certificate for localhost, made in memory." };
        var certOut = new Option<string?>("--cert-out")
        {
            Description = "With --tls: write the certificate (PEM) to FILE, so proxies can trust it with -c DIRECTORY-OF-FILE.",
            HelpName = "FILE",
        };
        var tunnels = new Option<string[]>("--tunnel")
        {
            Description = "Open a tunnel with these comma-separated service ids (\"\" for a single-stream V1 tunnel). Repeatable.",
            HelpName = "SERVICES",
        };
        var maxProtocol = new Option<string?>("--max-protocol")
        {
            Description = "The highest protocol version the service selects: V1, V2 or V3 (default).",
            HelpName = "V1|V2|V3",
        };
        var maxOpen = new Option<int>("--max-open-tunnels")
        {
            Description = "OpenTunnel answers LimitExceededException past this many open tunnels (default 100).",
            HelpName = "N",
            DefaultValueFactory = _ => new LocalTunnelServiceOptions().MaxOpenTunnels,
        };
        var verbose = new Option<string?>("--verbose", "-v") { Description = "Log level on stderr, 0-6 (default 4, info).", HelpName = "0-6" };
        var mqttBroker = new Option<string?>("--mqtt-broker")
        {
            Description = "Publish a notification, as AWS IoT does, on $aws/things/THING/tunnels/notify for every tunnel opened for a thing: " +
                "'embedded' runs an MQTT broker in this process (on --address, port --mqtt-broker-port); a URI (mqtt://HOST:PORT, mqtts://HOST:PORT) publishes to that broker.",
            HelpName = "embedded|URI",
        };
        var mqttBrokerPort = new Option<int>("--mqtt-broker-port") { Description = "With --mqtt-broker embedded: its port (default 0: a free port).", HelpName = "PORT" };
        var thing = new Option<string?>("--thing-name", "--thing")
        {
            Description = "Open the --tunnel tunnels for this thing (destinationConfig.thingName). With --mqtt-broker embedded they are opened once a tunnel agent has subscribed to the thing's topic.",
            HelpName = "THING",
        };

        var command = new Command("service", "Run a local tunneling service for offline use, and open tunnels on it.")
        {
            port, address, tls, certOut, tunnels, maxProtocol, maxOpen, verbose, mqttBroker, mqttBrokerPort, thing,
        };

        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var options = new LocalTunnelServiceOptions
            {
                Address = ParseAddress(parseResult.GetValue(address)!),
                Port = ParsePort(parseResult.GetValue(port)),
                UseTls = parseResult.GetValue(tls),
                MaxProtocol = parseResult.GetValue(maxProtocol) is { } max
                    ? FlagValues.ParseProtocolVersion(max, "--max-protocol")
                    : ProtocolVersion.V3,
                MaxOpenTunnels = ParseLimit(parseResult.GetValue(maxOpen)),
            };
            string? certificateFile = parseResult.GetValue(certOut);
            if (certificateFile is not null && !options.UseTls)
            {
                throw new UsageException("--cert-out needs --tls: without TLS there is no certificate to write.");
            }

            var serviceLists = (parseResult.GetValue(tunnels) ?? Array.Empty<string>()).Select(ParseServices).ToList();
            var level = CliLogging.ParseVerbosity(parseResult.GetValue(verbose));
            using var loggerFactory = CliLogging.CreateFactory(level, context.Error);
            await using var service = new LocalTunnelService(options with { LoggerFactory = loggerFactory });
            try
            {
                await service.StartAsync(cancellationToken);
            }
            catch (InvalidOperationException ex)
            {
                context.WriteError(ex.Message);
                return ExitCodes.PortInUse;
            }

            string? thingName = parseResult.GetValue(thing);
            if (thingName is not null && !thingName.All(c => char.IsAsciiLetterOrDigit(c) || c is ':' or '_' or '-'))
            {
                throw new UsageException($"--thing-name '{thingName}' is not a thing name: use letters, digits, ':', '_' or '-'.");
            }

            await using var notifier = await StartNotifierAsync(parseResult.GetValue(mqttBroker), parseResult.GetValue(mqttBrokerPort),
                options.Address, service, loggerFactory, cancellationToken);
            return await RunAsync(service, certificateFile, serviceLists, thingName, notifier, context, cancellationToken);
        });

        return command;
    }

    private static async Task<TunnelNotifier?> StartNotifierAsync(
        string? broker, int port, IPAddress address, LocalTunnelService service, ILoggerFactory loggerFactory, CancellationToken cancellationToken)
    {
        if (broker is null)
        {
            if (port != 0)
            {
                throw new UsageException("--mqtt-broker-port needs --mqtt-broker embedded: it is the embedded broker's port.");
            }

            return null;
        }

        INotificationPublisher publisher;
        try
        {
            publisher = string.Equals(broker, "embedded", StringComparison.OrdinalIgnoreCase)
                ? await EmbeddedNotificationBroker.StartAsync(address, ParsePort(port), cancellationToken)
                : new ExternalNotificationBroker(BrokerAddress.Parse(broker));
        }
        catch (ArgumentException ex)
        {
            throw new UsageException($"--mqtt-broker: {ex.Message} Or give 'embedded' to run a broker in this process.", ex);
        }

        return new TunnelNotifier(service.Registry, publisher, loggerFactory.CreateLogger("AwsTunnel.Notifications"));
    }

    private static async Task<int> RunAsync(LocalTunnelService service, string? certificateFile, List<string[]> serviceLists,
        string? thingName, TunnelNotifier? notifier, CliContext context, CancellationToken cancellationToken)
    {
        var output = context.Out;
        output.WriteLine($"Local tunneling service listening on {service.Endpoint.GetLeftPart(UriPartial.Authority)}");
        output.WriteLine($"Secure Tunneling API on {service.ApiEndpoint} (aws iotsecuretunneling --endpoint-url, AWS Tools -EndpointUrl); for the AWS CLI and SDKs set:");
        output.WriteLine($"  {LocalTunnelService.ApiEndpointVariable}={service.ApiEndpoint}");
        string trust = "-k";
        if (certificateFile is not null)
        {
            string path = Path.GetFullPath(certificateFile);
            try
            {
                Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                await File.WriteAllTextAsync(path, service.CertificatePem, cancellationToken);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw new UsageException($"--cert-out '{certificateFile}' cannot be written: {ex.Message}", ex);
            }

            trust = $"-c {Path.GetDirectoryName(path)}";
            output.WriteLine($"Certificate written to {path}; proxies trust it with {trust}");
            output.WriteLine($"  AWS_CA_BUNDLE={path} (the AWS CLI and SDKs trust it so)");
        }
        else if (service.Certificate is not null)
        {
            output.WriteLine("The certificate is self-signed and not saved (see --cert-out); the examples below skip verification with -k.");
        }

        if (notifier is not null)
        {
            output.WriteLine($"Tunnel notifications are published to {notifier.Publisher.BrokerUri}");
            if (thingName is not null && notifier.Publisher is EmbeddedNotificationBroker embedded && serviceLists.Count > 0)
            {
                // The embedded broker keeps nothing for absent subscribers: open once an agent listens.
                string topic = TunnelNotification.TopicFor(thingName);
                output.WriteLine($"Waiting for a tunnel agent to subscribe to {topic} before opening the tunnels for {thingName}");
                await output.FlushAsync(CancellationToken.None);
                try
                {
                    await embedded.WaitForSubscriberAsync(topic, cancellationToken);
                }
                catch (OperationCanceledException)
                {
                    await service.StopAsync();
                    return ExitCodes.Success;
                }
            }
        }

        if (serviceLists.Count == 0)
        {
            output.WriteLine("No tunnels were opened; add --tunnel SSH1 (repeatable), or call OpenTunnel on the API.");
        }

        foreach (var services in serviceLists)
        {
            LocalTunnel tunnel;
            try
            {
                tunnel = service.Registry.Open(new LocalTunnelSpec { Services = services, ThingName = thingName });
            }
            catch (Exception ex) when (ex is ArgumentException or TunnelLimitExceededException)
            {
                throw new UsageException($"--tunnel '{string.Join(",", services)}': {ex.Message}", ex);
            }

            WriteTunnel(output, tunnel, service.Certificate is null ? string.Empty : " " + trust);
        }

        output.WriteLine("Running; press Ctrl+C to stop.");
        await output.FlushAsync(CancellationToken.None);
        try
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
        }
        catch (OperationCanceledException)
        {
        }

        // Close the tunnels first, as CloseTunnel would, so connected proxies see a normal
        // close and exit 0 instead of reconnecting to a service that is going away.
        foreach (var tunnel in service.Tunnels.Where(t => t.IsOpen))
        {
            await service.CloseTunnelAsync(tunnel.TunnelId);
        }

        await service.StopAsync();
        return ExitCodes.Success;
    }

    /// <summary>The one place tokens are printed: the user started the service to get them.</summary>
    private static void WriteTunnel(TextWriter output, LocalTunnel tunnel, string trust)
    {
        bool v1 = tunnel.Services.Count == 0;
        string targets = v1 ? "127.0.0.1:22" : string.Join(",", tunnel.Services.Select(s => $"{s}=127.0.0.1:22"));
        string endpoint = tunnel.Endpoint.GetLeftPart(UriPartial.Authority);
        output.WriteLine();
        output.WriteLine($"Tunnel {tunnel.TunnelId} ({(v1 ? "single stream, no service ids" : "services " + string.Join(", ", tunnel.Services))})");
        output.WriteLine($"  source access token:      {tunnel.SourceAccessToken}");
        output.WriteLine($"  destination access token: {tunnel.DestinationAccessToken}");
        output.WriteLine("  destination (change the targets to your services):");
        output.WriteLine($"    {ProxyArguments.AccessTokenVariable}={tunnel.DestinationAccessToken} awstunnel -e {endpoint}{trust} -d {targets}");
        output.WriteLine("  source (listens on free ports and prints them):");
        output.WriteLine($"    {ProxyArguments.AccessTokenVariable}={tunnel.SourceAccessToken} awstunnel -e {endpoint}{trust} -m source");
    }

    private static string[] ParseServices(string text) =>
        text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);

    private static IPAddress ParseAddress(string text)
    {
        try
        {
            return ListenAddress.Parse(text, "--address");
        }
        catch (ArgumentException ex)
        {
            throw new UsageException(ex.Message, ex);
        }
    }

    private static int ParseLimit(int limit) => limit > 0
        ? limit
        : throw new UsageException($"--max-open-tunnels {limit.ToString(CultureInfo.InvariantCulture)} is not a count of tunnels. Give 1 or more.");

    private static int ParsePort(int port) => port is >= 0 and <= 65535
        ? port
        : throw new UsageException($"--port {port.ToString(CultureInfo.InvariantCulture)} is not a port. Give 0 to 65535 (0 = a free port).");
}
