using System.Text.Json.Serialization;

namespace AwsTunnel.Engine.Service.Api;

// The shapes of the iotsecuretunneling 2018-10-05 service model (botocore's service-2.json),
// member names as on the wire. Every request member is nullable: absence is checked by
// ApiValidation with the model's "required" list, so a missing field gets a ValidationException.

internal sealed record TagShape
{
    [JsonPropertyName("key")] public string? Key { get; init; }
    [JsonPropertyName("value")] public string? Value { get; init; }
}

internal sealed record DestinationConfigShape
{
    [JsonPropertyName("thingName")] public string? ThingName { get; init; }
    [JsonPropertyName("services")] public List<string?>? Services { get; init; }
}

internal sealed record TimeoutConfigShape
{
    [JsonPropertyName("maxLifetimeTimeoutMinutes")] public int? MaxLifetimeTimeoutMinutes { get; init; }
}

internal sealed record ConnectionStateShape
{
    [JsonPropertyName("status")] public string? Status { get; init; }
    [JsonPropertyName("lastUpdatedAt")] public DateTimeOffset? LastUpdatedAt { get; init; }
}

internal sealed record OpenTunnelRequest
{
    [JsonPropertyName("description")] public string? Description { get; init; }
    [JsonPropertyName("tags")] public List<TagShape?>? Tags { get; init; }
    [JsonPropertyName("destinationConfig")] public DestinationConfigShape? DestinationConfig { get; init; }
    [JsonPropertyName("timeoutConfig")] public TimeoutConfigShape? TimeoutConfig { get; init; }
}

internal sealed record OpenTunnelResponse
{
    [JsonPropertyName("tunnelId")] public string? TunnelId { get; init; }
    [JsonPropertyName("tunnelArn")] public string? TunnelArn { get; init; }
    [JsonPropertyName("sourceAccessToken")] public string? SourceAccessToken { get; init; }
    [JsonPropertyName("destinationAccessToken")] public string? DestinationAccessToken { get; init; }
}

internal sealed record CloseTunnelRequest
{
    [JsonPropertyName("tunnelId")] public string? TunnelId { get; init; }
    [JsonPropertyName("delete")] public bool? Delete { get; init; }
}

internal sealed record DescribeTunnelRequest
{
    [JsonPropertyName("tunnelId")] public string? TunnelId { get; init; }
}

internal sealed record TunnelShape
{
    [JsonPropertyName("tunnelId")] public string? TunnelId { get; init; }
    [JsonPropertyName("tunnelArn")] public string? TunnelArn { get; init; }
    [JsonPropertyName("status")] public string? Status { get; init; }
    [JsonPropertyName("sourceConnectionState")] public ConnectionStateShape? SourceConnectionState { get; init; }
    [JsonPropertyName("destinationConnectionState")] public ConnectionStateShape? DestinationConnectionState { get; init; }
    [JsonPropertyName("description")] public string? Description { get; init; }
    [JsonPropertyName("destinationConfig")] public DestinationConfigShape? DestinationConfig { get; init; }
    [JsonPropertyName("timeoutConfig")] public TimeoutConfigShape? TimeoutConfig { get; init; }
    [JsonPropertyName("tags")] public List<TagShape?>? Tags { get; init; }
    [JsonPropertyName("createdAt")] public DateTimeOffset? CreatedAt { get; init; }
    [JsonPropertyName("lastUpdatedAt")] public DateTimeOffset? LastUpdatedAt { get; init; }
}

internal sealed record DescribeTunnelResponse
{
    [JsonPropertyName("tunnel")] public TunnelShape? Tunnel { get; init; }
}

internal sealed record ListTunnelsRequest
{
    [JsonPropertyName("thingName")] public string? ThingName { get; init; }
    [JsonPropertyName("maxResults")] public int? MaxResults { get; init; }
    [JsonPropertyName("nextToken")] public string? NextToken { get; init; }
}

internal sealed record TunnelSummaryShape
{
    [JsonPropertyName("tunnelId")] public string? TunnelId { get; init; }
    [JsonPropertyName("tunnelArn")] public string? TunnelArn { get; init; }
    [JsonPropertyName("status")] public string? Status { get; init; }
    [JsonPropertyName("description")] public string? Description { get; init; }
    [JsonPropertyName("createdAt")] public DateTimeOffset? CreatedAt { get; init; }
    [JsonPropertyName("lastUpdatedAt")] public DateTimeOffset? LastUpdatedAt { get; init; }
}

internal sealed record ListTunnelsResponse
{
    [JsonPropertyName("tunnelSummaries")] public List<TunnelSummaryShape>? TunnelSummaries { get; init; }
    [JsonPropertyName("nextToken")] public string? NextToken { get; init; }
}

internal sealed record RotateTunnelAccessTokenRequest
{
    [JsonPropertyName("tunnelId")] public string? TunnelId { get; init; }
    [JsonPropertyName("clientMode")] public string? ClientMode { get; init; }
    [JsonPropertyName("destinationConfig")] public DestinationConfigShape? DestinationConfig { get; init; }
}

internal sealed record RotateTunnelAccessTokenResponse
{
    [JsonPropertyName("tunnelArn")] public string? TunnelArn { get; init; }
    [JsonPropertyName("sourceAccessToken")] public string? SourceAccessToken { get; init; }
    [JsonPropertyName("destinationAccessToken")] public string? DestinationAccessToken { get; init; }
}

internal sealed record TagResourceRequest
{
    [JsonPropertyName("resourceArn")] public string? ResourceArn { get; init; }
    [JsonPropertyName("tags")] public List<TagShape?>? Tags { get; init; }
}

internal sealed record UntagResourceRequest
{
    [JsonPropertyName("resourceArn")] public string? ResourceArn { get; init; }
    [JsonPropertyName("tagKeys")] public List<string?>? TagKeys { get; init; }
}

internal sealed record ListTagsForResourceRequest
{
    [JsonPropertyName("resourceArn")] public string? ResourceArn { get; init; }
}

internal sealed record ListTagsForResourceResponse
{
    [JsonPropertyName("tags")] public List<TagShape?>? Tags { get; init; }
}

/// <summary>The output of CloseTunnel, TagResource and UntagResource: an empty structure.</summary>
internal sealed record EmptyResponse;

/// <summary>A JSON 1.1 error body.</summary>
internal sealed record ErrorResponse(
    [property: JsonPropertyName("__type")] string Type,
    [property: JsonPropertyName("message")] string Message);
