using System.Net;
using System.Security.Cryptography.X509Certificates;
using AwsTunnel.Engine.Settings;
using AwsTunnel.Engine.Tunnel;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace AwsTunnel.Engine.Agent;

/// <summary>
/// Everything a tunnel agent needs: the broker and the device's credentials for it, the thing
/// whose notify topic it watches, and what each destination it starts gets (targets,
/// service trust, settings). Validated once by <see cref="Validate"/>.
/// </summary>
public sealed record AgentOptions
{
    /// <summary>The default cap on tunnels served at once.</summary>
    public const int DefaultMaxTunnels = 10;

    /// <summary>The thing whose <c>$aws/things/THING/tunnels/notify</c> topic is watched.</summary>
    public required string ThingName { get; init; }

    /// <summary>The MQTT broker (AWS IoT Core endpoint or any broker).</summary>
    public required BrokerAddress Broker { get; init; }

    /// <summary>The MQTT client id; null = the thing name (what AWS IoT policies usually expect).</summary>
    public string? ClientId { get; init; }

    /// <summary>The device certificate (with its private key) presented to the broker; null = none.</summary>
    public X509Certificate2? ClientCertificate { get; init; }

    /// <summary>Certificates trusted for the broker's TLS certificate besides the system's (e.g. AmazonRootCA1).</summary>
    public X509Certificate2Collection? BrokerTrustedCertificates { get; init; }

    /// <summary>Accept any broker certificate. Unsafe; warned about on start.</summary>
    public bool SkipBrokerCertificateCheck { get; init; }

    /// <summary>A user name and password for brokers that want them (AWS IoT Core does not); null = none.</summary>
    public NetworkCredential? BrokerCredential { get; init; }

    /// <summary>
    /// Ask the broker to keep the subscription and queue notifications while the agent is away
    /// (MQTT clean session off), so a tunnel opened during a network gap still reaches the device.
    /// </summary>
    public bool PersistentSession { get; init; } = true;

    /// <summary>MQTT keep-alive: how soon a silently dead broker connection is noticed.</summary>
    public TimeSpan KeepAlive { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The first delay before reconnecting to the broker; doubled per failed attempt up to <see cref="MaxReconnectDelay"/>.</summary>
    public TimeSpan ReconnectDelay { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>The longest delay between broker reconnect attempts.</summary>
    public TimeSpan MaxReconnectDelay { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Targets per service id (SERVICE=HOST:PORT); services not named here fall back to <see cref="WellKnownServices"/>.</summary>
    public IReadOnlyList<ServiceMapping> Services { get; init; } = Array.Empty<ServiceMapping>();

    /// <summary>At most this many tunnels are served at once; further notifications are skipped with a warning.</summary>
    public int MaxTunnels { get; init; } = DefaultMaxTunnels;

    /// <summary>
    /// The tunneling service every destination connects to, instead of the region's AWS endpoint
    /// (offline: the local tunneling service's ws:// or wss:// address). Null = from the notification's region.
    /// </summary>
    public Uri? TunnelEndpoint { get; init; }

    /// <summary>A directory of CA certificates trusted for the tunneling service.</summary>
    public string? CertificateAuthorityPath { get; init; }

    /// <summary>Further certificates trusted for the tunneling service (e.g. the local service's).</summary>
    public X509Certificate2Collection? TrustedCertificates { get; init; }

    /// <summary>Accept any tunneling service certificate. Unsafe.</summary>
    public bool SkipCertificateCheck { get; init; }

    /// <summary>An HTTP(S) proxy for the destinations' WebSocket connections; null = direct.</summary>
    public IWebProxy? WebProxy { get; init; }

    /// <summary>The destinations' fine-grained settings.</summary>
    public ProxySettings Settings { get; init; } = ProxySettings.Default;

    /// <summary>How long the first broker connection, and each destination's start, may take.</summary>
    public TimeSpan StartTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Where the agent's own log records go.</summary>
    public ILoggerFactory LoggerFactory { get; init; } = NullLoggerFactory.Instance;

    /// <summary>
    /// Where a destination's log records go, asked once per destination before it starts; null =
    /// <see cref="LoggerFactory"/>. (The PowerShell module gives each destination its own job streams.)
    /// </summary>
    public Func<TunnelNotification, ILoggerFactory>? DestinationLoggerFactory { get; init; }

    /// <summary>The notify topic for <see cref="ThingName"/>.</summary>
    public string NotifyTopic => TunnelNotification.TopicFor(ThingName);

    /// <summary>Checks the combination; throws <see cref="ArgumentException"/> naming the input and the fix.</summary>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(ThingName) || ThingName.Length > 128 ||
            !ThingName.All(c => char.IsAsciiLetterOrDigit(c) || c is ':' or '_' or '-'))
        {
            throw new ArgumentException($"Thing name '{ThingName}' is not valid. A thing name is 1 to 128 letters, digits, ':', '_' or '-' (as registered in AWS IoT).");
        }

        if (MaxTunnels < 1)
        {
            throw new ArgumentException($"The tunnel cap is {MaxTunnels}. Give at least 1 concurrent tunnel.");
        }

        if (ReconnectDelay <= TimeSpan.Zero || MaxReconnectDelay < ReconnectDelay)
        {
            throw new ArgumentException("The broker reconnect delays are inconsistent: the first delay must be positive and at most the longest delay.");
        }

        if (ClientCertificate is { HasPrivateKey: false })
        {
            throw new ArgumentException($"The device certificate ({ClientCertificate.Subject}) has no private key. Give the key file that belongs to it.");
        }

        if (TunnelEndpoint is { } endpoint && endpoint.Scheme is not ("ws" or "wss"))
        {
            throw new ArgumentException($"Tunnel endpoint '{endpoint}' is not a ws:// or wss:// address. Give the tunneling service's address, e.g. the local service's Endpoint.");
        }

        foreach (var mapping in Services)
        {
            if (mapping.IsUnnamed)
            {
                throw new ArgumentException($"Agent target '{mapping}' has no service id. Name the service it is for, e.g. SSH={mapping}: notifications name their services.");
            }

            if (mapping.Port == 0)
            {
                throw new ArgumentException($"Agent target '{mapping}' has port 0. Give the port the service listens on.");
            }
        }
    }
}
