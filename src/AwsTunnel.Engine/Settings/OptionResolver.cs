using AwsTunnel.Engine.Transport;
using AwsTunnel.Engine.Tunnel;
using Microsoft.Extensions.Logging;

namespace AwsTunnel.Engine.Settings;

/// <summary>
/// The one place both front ends resolve the options they share. Each front end adds what it
/// was given, with its own name for each input; the strongest origin wins per option (typed &gt;
/// piped &gt; derived &gt; config file &gt; environment &gt; ambient defaults, as the reference proxy's
/// flags &gt; config file &gt; environment), and every value keeps its source so an error can name it.
/// The region/endpoint rule, the access token and the client token are decided here once.
/// </summary>
public sealed class OptionResolver
{
    /// <summary>The option keys: the reference proxy's long option names.</summary>
    public const string Region = "region";
    public const string Endpoint = "proxy-endpoint";
    public const string AccessToken = "access-token";
    public const string ClientToken = "client-token";

    private readonly Dictionary<string, List<OptionValue>> _candidates = new(StringComparer.Ordinal);

    /// <summary>Adds one candidate; a null, empty or white-space value is no value and is ignored.</summary>
    public OptionResolver Add(string key, string? value, string source, OptionOrigin origin)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(source);
        if (string.IsNullOrWhiteSpace(value))
        {
            return this;
        }

        if (!_candidates.TryGetValue(key, out var list))
        {
            _candidates[key] = list = new List<OptionValue>();
        }

        // Stable: among candidates of one origin the first added wins.
        int at = list.FindIndex(c => c.Origin > origin);
        list.Insert(at < 0 ? list.Count : at, new OptionValue(value.Trim(), source, origin));
        return this;
    }

    /// <summary>Adds every option of a <c>--config</c> file (as <see cref="ConfigFile.Load"/> returned them).</summary>
    public OptionResolver AddConfigFile(IReadOnlyDictionary<string, string> options, string fileName)
    {
        ArgumentNullException.ThrowIfNull(options);
        foreach (var (key, value) in options)
        {
            Add(key, value, $"{key} in config file {fileName}", OptionOrigin.ConfigFile);
        }

        return this;
    }

    /// <summary>Adds the tunnel's variables, as the reference reads them: access token, client token, endpoint, region.</summary>
    public OptionResolver AddEnvironment(TunnelEnvironment environment)
    {
        ArgumentNullException.ThrowIfNull(environment);
        Add(AccessToken, environment.AccessToken, TunnelEnvironment.AccessTokenVariable, OptionOrigin.Environment);
        Add(ClientToken, environment.ClientToken, environment.ClientTokenVariableUsed ?? TunnelEnvironment.ClientTokenVariable, OptionOrigin.Environment);
        Add(Endpoint, environment.Endpoint, TunnelEnvironment.EndpointVariable, OptionOrigin.Environment);
        Add(Region, environment.TunnelRegion, TunnelEnvironment.TunnelRegionVariable, OptionOrigin.Environment);
        return this;
    }

    /// <summary>
    /// Adds the regions that are not about tunnels, weakest of all so that they never conflict
    /// with an endpoint: <c>$StoredAWSRegion</c> (given by the caller), <c>AWS_REGION</c>, <c>AWS_DEFAULT_REGION</c>.
    /// </summary>
    public OptionResolver AddAmbientRegions(TunnelEnvironment environment, string? storedAwsRegion)
    {
        ArgumentNullException.ThrowIfNull(environment);
        Add(Region, storedAwsRegion, "$StoredAWSRegion", OptionOrigin.AmbientDefault);
        Add(Region, environment.AwsRegion, TunnelEnvironment.AwsRegionVariable, OptionOrigin.AmbientDefault);
        Add(Region, environment.AwsDefaultRegion, TunnelEnvironment.AwsDefaultRegionVariable, OptionOrigin.AmbientDefault);
        return this;
    }

    /// <summary>The winning value of <paramref name="key"/>; null when nothing gave one.</summary>
    public OptionValue? Get(string key) =>
        _candidates.TryGetValue(key, out var list) && list.Count > 0 ? list[0] : null;

    /// <summary>Every option's winning value.</summary>
    public IReadOnlyDictionary<string, OptionValue> Winners() =>
        _candidates.Where(p => p.Value.Count > 0).ToDictionary(p => p.Key, p => p.Value[0], StringComparer.Ordinal);

    /// <summary>
    /// The service URI by the region/endpoint rule: the stronger of the two wins; a region and an
    /// endpoint of the same strength (both typed, both in the config file, both in the
    /// environment) are mutually exclusive, as in the reference. An endpoint or region from the
    /// config file or the environment that a stronger input overrides is reported with a warning.
    /// </summary>
    /// <param name="settings">Supplies the endpoint format and region overrides.</param>
    /// <param name="missingHint">The front end's words for how to give one, used when neither was given.</param>
    /// <param name="logger">Receives the override warning; null = none.</param>
    /// <exception cref="ArgumentException">both or neither were given, or the value is malformed; the message names the source.</exception>
    public Uri ResolveServiceUri(ProxySettings settings, string missingHint, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var region = Get(Region);
        var endpoint = Get(Endpoint);
        if (region is null && endpoint is null)
        {
            throw new ArgumentException($"No region or endpoint was given. {missingHint}");
        }

        if (region is not null && endpoint is not null)
        {
            if (region.Origin == endpoint.Origin)
            {
                throw new ArgumentException(
                    $"A region (from {region.Source}) and an endpoint (from {endpoint.Source}) were both given; they are mutually exclusive. Remove one of them.");
            }

            var (winner, loser) = region.Origin < endpoint.Origin ? (region, endpoint) : (endpoint, region);
            if (loser.Origin is OptionOrigin.ConfigFile or OptionOrigin.Environment)
            {
                logger?.LogWarning("{Winner} overrides {Loser}; using {Value}.", winner.Source, loser.Source, winner.Value);
            }

            if (ReferenceEquals(winner, region))
            {
                endpoint = null;
            }
            else
            {
                region = null;
            }
        }

        var chosen = (region ?? endpoint)!;
        try
        {
            return TunnelEndpoint.Resolve(region?.Value, endpoint?.Value, settings);
        }
        catch (ArgumentException ex)
        {
            throw new ArgumentException($"{chosen.Source}: {ex.Message}", ex);
        }
    }

    /// <summary>The access token, checked for characters no HTTP header may carry.</summary>
    /// <param name="missingHint">The front end's words for how to give one.</param>
    /// <exception cref="ArgumentException">none was given, or it holds a control character; the message names the source, never the value.</exception>
    public string ResolveAccessToken(string missingHint)
    {
        var token = Get(AccessToken) ?? throw new ArgumentException($"No access token was given. {missingHint}");
        return TunnelOptions.HasControlCharacter(token.Value)
            ? throw new ArgumentException(
                $"The access token from {token.Source} contains a control character (often a line break copied with it). Give the token alone, on one line.")
            : token.Value;
    }

    /// <summary>The client token, validated as the service requires; null when none was given (the engine makes one).</summary>
    /// <exception cref="ArgumentException">it does not match <c>^[a-zA-Z0-9-]{32,128}$</c>; the message names the source, never the value.</exception>
    public string? ResolveClientToken()
    {
        var token = Get(ClientToken);
        if (token is null)
        {
            return null;
        }

        return TunnelOptions.IsValidClientToken(token.Value)
            ? token.Value
            : throw new ArgumentException(
                $"The client token from {token.Source} is invalid: it must match ^[a-zA-Z0-9-]{{32,128}}$ (32 to 128 letters, digits or '-'). A UUID works.");
    }
}
