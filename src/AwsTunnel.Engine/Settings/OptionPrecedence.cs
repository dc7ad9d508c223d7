namespace AwsTunnel.Engine.Settings;

/// <summary>An option's value and where it came from (for messages; never print the value of a token).</summary>
/// <param name="Value">The value as given.</param>
/// <param name="Source">Where: <see cref="OptionPrecedence.CommandLine"/>, <c>config file NAME</c>, or a variable name.</param>
public sealed record OptionValue(string Value, string Source)
{
    /// <summary>The source only: values may be secrets.</summary>
    public override string ToString() => Source;
}

/// <summary>
/// The reference proxy's precedence for its options, applied per option: command-line flags
/// win over a <c>--config</c> file, which wins over the environment
/// (<c>AWSIOT_TUNNEL_ACCESS_TOKEN</c>, <c>AWSIOT_TUNNEL_CLIENT_TOKEN</c>,
/// <c>AWSIOT_TUNNEL_ENDPOINT</c>, <c>AWSIOT_TUNNEL_REGION</c>). As in the reference, a region and
/// an endpoint from different places are still mutually exclusive (see <see cref="RequireRegionOrEndpoint"/>).
/// </summary>
public static class OptionPrecedence
{
    /// <summary>The source name of command-line flags.</summary>
    public const string CommandLine = "the command line";

    /// <summary>Merges the three sources; keys are the long option names of <see cref="ConfigFile.Keys"/>.</summary>
    /// <param name="commandLine">Options given as flags (long names), only those actually given.</param>
    /// <param name="configFile">What <see cref="ConfigFile.Load"/> returned; null when there is no config file.</param>
    /// <param name="configFileName">Names the config file in sources.</param>
    /// <param name="environment">The environment; its AWS SDK region variables are not used here (cmdlets only).</param>
    public static IReadOnlyDictionary<string, OptionValue> Merge(
        IReadOnlyDictionary<string, string> commandLine, IReadOnlyDictionary<string, string>? configFile, string? configFileName, TunnelEnvironment environment)
    {
        ArgumentNullException.ThrowIfNull(commandLine);
        ArgumentNullException.ThrowIfNull(environment);
        var result = new Dictionary<string, OptionValue>(StringComparer.Ordinal);
        foreach (var (key, value) in commandLine)
        {
            result[key] = new OptionValue(value, CommandLine);
        }

        foreach (var (key, value) in configFile ?? new Dictionary<string, string>())
        {
            result.TryAdd(key, new OptionValue(value, $"config file {configFileName ?? "(unnamed)"}"));
        }

        AddFromEnvironment(result, "access-token", environment.AccessToken, TunnelEnvironment.AccessTokenVariable);
        AddFromEnvironment(result, "client-token", environment.ClientToken, TunnelEnvironment.ClientTokenVariable);
        AddFromEnvironment(result, "proxy-endpoint", environment.Endpoint, TunnelEnvironment.EndpointVariable);
        AddFromEnvironment(result, "region", environment.TunnelRegion, TunnelEnvironment.TunnelRegionVariable);
        return result;
    }

    /// <summary>
    /// Checks that exactly one of <c>region</c> and <c>proxy-endpoint</c> was given, wherever from.
    /// </summary>
    /// <returns>The region (null when an endpoint was given) and the endpoint (null when a region was given).</returns>
    /// <exception cref="SettingsException">both or neither were given; the message names where each came from.</exception>
    public static (string? Region, string? Endpoint) RequireRegionOrEndpoint(IReadOnlyDictionary<string, OptionValue> merged)
    {
        ArgumentNullException.ThrowIfNull(merged);
        merged.TryGetValue("region", out var region);
        merged.TryGetValue("proxy-endpoint", out var endpoint);
        if (region is not null && endpoint is not null)
        {
            throw new SettingsException(
                $"A region (from {region.Source}) and an endpoint (from {endpoint.Source}) were both given; they are mutually exclusive. Remove one of them.",
                key: "region");
        }

        if (region is null && endpoint is null)
        {
            throw new SettingsException(
                $"No region or endpoint was given. Give -r/--region (or {TunnelEnvironment.TunnelRegionVariable}), or -e/--proxy-endpoint (or {TunnelEnvironment.EndpointVariable}).",
                key: "region");
        }

        return (region?.Value, endpoint?.Value);
    }

    private static void AddFromEnvironment(Dictionary<string, OptionValue> result, string key, string? value, string variable)
    {
        if (value is not null)
        {
            result.TryAdd(key, new OptionValue(value, variable));
        }
    }
}
