using System.Net;
using System.Security.Cryptography.X509Certificates;
using System.Text.RegularExpressions;
using AwsTunnel.Engine.Protocol;
using AwsTunnel.Engine.Settings;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace AwsTunnel.Engine.Tunnel;

/// <summary>
/// Everything one local proxy session needs, validated once at the edge. Tokens are
/// never part of <see cref="ToString"/>.
/// </summary>
public sealed partial record TunnelOptions
{
    /// <summary>Source or destination.</summary>
    public required TunnelMode Mode { get; init; }

    /// <summary>The service base URI (from <see cref="Transport.TunnelEndpoint.Resolve"/>).</summary>
    public required Uri ServiceUri { get; init; }

    /// <summary>The access token for <see cref="Mode"/>. Secret: never logged.</summary>
    public required string AccessToken { get; init; }

    /// <summary>Client token sent on every connect, so a reconnect may reuse the access token. Secret.</summary>
    public string? ClientToken { get; init; }

    /// <summary>Local mappings; empty = source picks free ports for every announced service.</summary>
    public IReadOnlyList<ServiceMapping> Services { get; init; } = Array.Empty<ServiceMapping>();

    /// <summary>
    /// Mappings read from a configuration directory (<c>--config-dir</c>). Used only when
    /// <see cref="Services"/> is empty, and only for the services the tunnel announces.
    /// </summary>
    public IReadOnlyList<ServiceMapping> ConfigDirectoryServices { get; init; } = Array.Empty<ServiceMapping>();

    /// <summary>Address a source listens on; null = <see cref="ProxySettings.DefaultBindAddress"/>.</summary>
    public string? BindAddress { get; init; }

    /// <summary>
    /// The message format the peer proxy speaks (<c>-y</c>). A source for a V1/V2 destination sends no
    /// connection ids; V1 on either end sends no service ids, matching the reference proxy's V1 wire form.
    /// </summary>
    public ProtocolVersion DestinationClientType { get; init; } = ProtocolVersion.V3;

    /// <summary>A directory of PEM/CRT certificates trusted in addition to the system's.</summary>
    public string? CertificateAuthorityPath { get; init; }

    /// <summary>The front end's name for <see cref="CertificateAuthorityPath"/>, used in the hint of a certificate chain failure.</summary>
    public string CertificateAuthorityOption { get; init; } = "a CA certificate directory";

    /// <summary>Further trusted certificates (e.g. a local service's self-signed one).</summary>
    public X509Certificate2Collection? TrustedCertificates { get; init; }

    /// <summary>Accept any server certificate. Unsafe; a warning is logged on every start.</summary>
    public bool SkipCertificateCheck { get; init; }

    /// <summary>An HTTP(S) proxy for the WebSocket connection; null = direct.</summary>
    public IWebProxy? WebProxy { get; init; }

    /// <summary>The reference proxy's fine-grained settings.</summary>
    public ProxySettings Settings { get; init; } = ProxySettings.Default;

    /// <summary>How long a start may take (connect and service validation).</summary>
    public TimeSpan StartTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long one connection attempt may take, from the TCP connect to the service's 101 answer;
    /// a stuck front end fails the attempt, which is then retried like any other failure.
    /// </summary>
    public TimeSpan ConnectAttemptTimeout { get; init; } = TimeSpan.FromSeconds(20);

    /// <summary>Where engine log records go.</summary>
    public ILoggerFactory LoggerFactory { get; init; } = NullLoggerFactory.Instance;

    /// <summary>
    /// Where the session's payload and batch buffers come from: the shared pool, or a counting
    /// pool in tests that check every buffer comes back.
    /// </summary>
    internal System.Buffers.ArrayPool<byte> BufferPool { get; init; } = System.Buffers.ArrayPool<byte>.Shared;

    /// <summary>Checks a client token against the service's pattern <c>^[a-zA-Z0-9-]{32,128}$</c>.</summary>
    public static bool IsValidClientToken(string token) => ClientTokenPattern().IsMatch(token);

    /// <summary>True when <paramref name="token"/> holds a character no HTTP header may carry (CR, LF, other controls).</summary>
    public static bool HasControlCharacter(string token) => token.Any(c => char.IsControl(c));

    /// <summary>A fresh client token (a UUID without braces, as the service recommends).</summary>
    public static string NewClientToken() => Guid.NewGuid().ToString("D");

    /// <summary>Checks the combination; throws <see cref="ArgumentException"/> naming the input and the fix.</summary>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(AccessToken))
        {
            throw new ArgumentException("No access token was given. Pass the tunnel's source or destination access token.");
        }

        if (ConnectAttemptTimeout <= TimeSpan.Zero)
        {
            throw new ArgumentException("The connect attempt timeout must be positive.");
        }

        if (HasControlCharacter(AccessToken))
        {
            throw new ArgumentException("The access token contains a control character (often a line break copied with it). Give the token alone, on one line.");
        }

        if (ClientToken is not null && !IsValidClientToken(ClientToken))
        {
            throw new ArgumentException("The client token is invalid: it must be 32 to 128 characters of letters, digits and '-'. A UUID works.");
        }

        if (Mode == TunnelMode.Destination)
        {
            if (Services.Count == 0 && ConfigDirectoryServices.Count == 0)
            {
                throw new ArgumentException("A destination needs at least one target: give SERVICE=HOST:PORT (or a port for a one-service tunnel), or a configuration directory.");
            }

            foreach (var s in Services.Where(s => s.Port == 0))
            {
                throw new ArgumentException($"Destination target '{s}' has port 0. Give the port the destination service listens on.");
            }
        }
        else if (Services.Any(s => s.Host is not null))
        {
            var bad = Services.First(s => s.Host is not null);
            throw new ArgumentException($"Source mapping '{bad}' names a host; a source listens on a port. Give SERVICE=PORT and set the bind address separately.");
        }
    }

    /// <summary>A description without secrets.</summary>
    public override string ToString() =>
        $"{Mode} {ServiceUri} services=[{string.Join(", ", Services)}] access-token=<redacted> client-token={(ClientToken is null ? "<none>" : "<redacted>")}";

    [GeneratedRegex("^[a-zA-Z0-9-]{32,128}\\z")]
    private static partial Regex ClientTokenPattern();
}
