namespace AwsTunnel.Engine.Service;

/// <summary>
/// What a new tunnel is opened with: the OpenTunnel request's content, whether it came over
/// the API, from New-LocalTunnel or from the CLI's --tunnel (they all open through
/// <see cref="LocalTunnelRegistry.Open"/>).
/// </summary>
public sealed record LocalTunnelSpec
{
    /// <summary>Service ids (destinationConfig.services); none = a single-stream V1 tunnel.</summary>
    public IReadOnlyList<string> Services { get; init; } = Array.Empty<string>();

    /// <summary>The IoT thing of the destination (destinationConfig.thingName), if any.</summary>
    public string? ThingName { get; init; }

    public string? Description { get; init; }

    /// <summary>Tags in the order given; keys are unique.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Tags { get; init; } = Array.Empty<KeyValuePair<string, string>>();

    /// <summary>Maximum lifetime; null = the service's default.</summary>
    public TimeSpan? Lifetime { get; init; }

    /// <summary>The region for the tunnel's ARN (the caller's credential scope); null = the service's.</summary>
    public string? Region { get; init; }
}
