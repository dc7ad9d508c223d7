namespace AwsTunnel.Engine.Settings;

/// <summary>
/// The environment variables the local proxy reads, taken through an injected lookup so
/// callers (and tests) decide where they come from. A variable that is unset, empty or only
/// white space counts as absent. Secrets are never part of <see cref="ToString"/>.
/// </summary>
public sealed record TunnelEnvironment
{
    /// <summary>The access token, when not given otherwise.</summary>
    public const string AccessTokenVariable = "AWSIOT_TUNNEL_ACCESS_TOKEN";

    /// <summary>The client token, as the reference documents it.</summary>
    public const string ClientTokenVariable = "AWSIOT_TUNNEL_CLIENT_TOKEN";

    /// <summary>The client token under the name older reference builds read; used when <see cref="ClientTokenVariable"/> is absent.</summary>
    public const string LegacyClientTokenVariable = "AWSIOT_CLIENT_TOKEN";

    /// <summary>An explicit service endpoint (mutually exclusive with a region).</summary>
    public const string EndpointVariable = "AWSIOT_TUNNEL_ENDPOINT";

    /// <summary>The tunnel's region.</summary>
    public const string TunnelRegionVariable = "AWSIOT_TUNNEL_REGION";

    /// <summary>The AWS SDKs' region (cmdlets only).</summary>
    public const string AwsRegionVariable = "AWS_REGION";

    /// <summary>The AWS CLI's default region (cmdlets only).</summary>
    public const string AwsDefaultRegionVariable = "AWS_DEFAULT_REGION";

    /// <summary>The web proxy, lower case: wins over <see cref="HttpsProxyUpperVariable"/> when both are set.</summary>
    public const string HttpsProxyLowerVariable = "https_proxy";

    /// <summary>The web proxy, upper case.</summary>
    public const string HttpsProxyUpperVariable = "HTTPS_PROXY";

    /// <summary>An environment with nothing set.</summary>
    public static TunnelEnvironment Empty { get; } = new();

    /// <summary><c>AWSIOT_TUNNEL_ACCESS_TOKEN</c>. Secret.</summary>
    public string? AccessToken { get; init; }

    /// <summary><c>AWSIOT_TUNNEL_CLIENT_TOKEN</c>, else <c>AWSIOT_CLIENT_TOKEN</c>. Secret.</summary>
    public string? ClientToken { get; init; }

    /// <summary>Which variable <see cref="ClientToken"/> came from, for messages; null when neither is set.</summary>
    public string? ClientTokenVariableUsed { get; init; }

    /// <summary><c>AWSIOT_TUNNEL_ENDPOINT</c>.</summary>
    public string? Endpoint { get; init; }

    /// <summary><c>AWSIOT_TUNNEL_REGION</c>.</summary>
    public string? TunnelRegion { get; init; }

    /// <summary><c>AWS_REGION</c>.</summary>
    public string? AwsRegion { get; init; }

    /// <summary><c>AWS_DEFAULT_REGION</c>.</summary>
    public string? AwsDefaultRegion { get; init; }

    /// <summary>The web proxy URL from <c>https_proxy</c>, else <c>HTTPS_PROXY</c>. May hold a password: never log it (use <see cref="Transport.WebProxyResolver.DescribeText"/>).</summary>
    public string? HttpsProxy { get; init; }

    /// <summary>Which variable <see cref="HttpsProxy"/> came from, for messages; null when none is set.</summary>
    public string? HttpsProxyVariable { get; init; }

    /// <summary>Reads every variable through <paramref name="getVariable"/>.</summary>
    /// <param name="getVariable">The lookup, e.g. <see cref="Environment.GetEnvironmentVariable(string)"/>; returns null when a variable is unset.</param>
    public static TunnelEnvironment Read(Func<string, string?> getVariable)
    {
        ArgumentNullException.ThrowIfNull(getVariable);
        string? Get(string name) => string.IsNullOrWhiteSpace(getVariable(name)) ? null : getVariable(name)!.Trim();

        string? proxyVariable = Get(HttpsProxyLowerVariable) is not null ? HttpsProxyLowerVariable
            : Get(HttpsProxyUpperVariable) is not null ? HttpsProxyUpperVariable
            : null;
        string? clientTokenVariable = Get(ClientTokenVariable) is not null ? ClientTokenVariable
            : Get(LegacyClientTokenVariable) is not null ? LegacyClientTokenVariable
            : null;
        return new TunnelEnvironment
        {
            AccessToken = Get(AccessTokenVariable),
            ClientToken = clientTokenVariable is null ? null : Get(clientTokenVariable),
            ClientTokenVariableUsed = clientTokenVariable,
            Endpoint = Get(EndpointVariable),
            TunnelRegion = Get(TunnelRegionVariable),
            AwsRegion = Get(AwsRegionVariable),
            AwsDefaultRegion = Get(AwsDefaultRegionVariable),
            HttpsProxy = proxyVariable is null ? null : Get(proxyVariable),
            HttpsProxyVariable = proxyVariable,
        };
    }

    /// <summary>Reads the current process's environment.</summary>
    public static TunnelEnvironment FromProcess() => Read(Environment.GetEnvironmentVariable);

    /// <summary>Which variables are set, without their secret values.</summary>
    public override string ToString()
    {
        var parts = new List<string>();
        if (AccessToken is not null) parts.Add($"{AccessTokenVariable}=<redacted>");
        if (ClientToken is not null) parts.Add($"{ClientTokenVariableUsed}=<redacted>");
        if (Endpoint is not null) parts.Add($"{EndpointVariable}={Endpoint}");
        if (TunnelRegion is not null) parts.Add($"{TunnelRegionVariable}={TunnelRegion}");
        if (AwsRegion is not null) parts.Add($"{AwsRegionVariable}={AwsRegion}");
        if (AwsDefaultRegion is not null) parts.Add($"{AwsDefaultRegionVariable}={AwsDefaultRegion}");
        if (HttpsProxy is not null) parts.Add($"{HttpsProxyVariable}={Transport.WebProxyResolver.DescribeText(HttpsProxy)}");
        return parts.Count == 0 ? "(no tunnel variables set)" : string.Join(" ", parts);
    }
}
