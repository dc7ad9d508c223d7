using System.Text.Json.Serialization;

namespace AwsTunnel.Engine.Service.Api;

/// <summary>
/// Source-generated JSON for the API shapes: members as named on the wire (case-sensitive,
/// as AWS is), absent members left out, unknown members ignored, timestamps in epoch seconds.
/// </summary>
[JsonSourceGenerationOptions(
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    Converters = new[] { typeof(EpochSecondsConverter) },
    AllowTrailingCommas = false,
    ReadCommentHandling = System.Text.Json.JsonCommentHandling.Disallow)]
[JsonSerializable(typeof(OpenTunnelRequest))]
[JsonSerializable(typeof(OpenTunnelResponse))]
[JsonSerializable(typeof(CloseTunnelRequest))]
[JsonSerializable(typeof(DescribeTunnelRequest))]
[JsonSerializable(typeof(DescribeTunnelResponse))]
[JsonSerializable(typeof(ListTunnelsRequest))]
[JsonSerializable(typeof(ListTunnelsResponse))]
[JsonSerializable(typeof(RotateTunnelAccessTokenRequest))]
[JsonSerializable(typeof(RotateTunnelAccessTokenResponse))]
[JsonSerializable(typeof(TagResourceRequest))]
[JsonSerializable(typeof(UntagResourceRequest))]
[JsonSerializable(typeof(ListTagsForResourceRequest))]
[JsonSerializable(typeof(ListTagsForResourceResponse))]
[JsonSerializable(typeof(EmptyResponse))]
[JsonSerializable(typeof(ErrorResponse))]
internal sealed partial class ApiJsonContext : JsonSerializerContext
{
}
