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

    /// <summary>Builds validated options; the environment fills in what the flags leave out.</summary>
    /// <exception cref="UsageException">a flag or variable is wrong or missing.</exception>
    public TunnelOptions ToTunnelOptions(CliContext context, ILoggerFactory loggerFactory)
    {
        var mode = ResolveMode();
        var services = mode == TunnelMode.Source
            ? ParseMappings(SourcePorts, "-s/--source-listen-port")
            : ParseMappings(DestinationApps, "-d/--destination-app");
        if (mode == TunnelMode.Destination && services.Count == 0)
        {
            throw new UsageException("destination mode needs -d/--destination-app: give the target, e.g. -d 22 or -d SSH1=127.0.0.1:22.");
        }

        var options = new TunnelOptions
        {
            Mode = mode,
            ServiceUri = ResolveServiceUri(context),
            AccessToken = ResolveAccessToken(context),
            ClientToken = ResolveClientToken(),
            Services = services,
            BindAddress = ResolveBindAddress(mode),
            DestinationClientType = ResolveDestinationClientType(mode),
            CertificateAuthorityPath = ResolveCaPath(),
            SkipCertificateCheck = NoSslHostVerify,
            WebProxy = HttpsProxyEnvironment.Resolve(context),
            Settings = ProxySettings.Default,
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

    private Uri ResolveServiceUri(CliContext context)
    {
        bool hasRegionFlag = !string.IsNullOrWhiteSpace(Region);
        bool hasEndpointFlag = !string.IsNullOrWhiteSpace(Endpoint);
        if (hasRegionFlag && hasEndpointFlag)
        {
            throw new UsageException("-r/--region and -e/--proxy-endpoint are mutually exclusive. Give one of them.");
        }

        if (hasRegionFlag || hasEndpointFlag)
        {
            return Resolve(Region, Endpoint, hasRegionFlag ? "-r/--region" : "-e/--proxy-endpoint");
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

        return Resolve(region, endpoint, region is not null ? RegionVariable : EndpointVariable);
    }

    private static Uri Resolve(string? region, string? endpoint, string source)
    {
        try
        {
            return TunnelEndpoint.Resolve(region, endpoint, ProxySettings.Default);
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
