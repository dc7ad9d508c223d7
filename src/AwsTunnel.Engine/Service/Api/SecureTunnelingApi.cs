using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.Extensions.Logging;

namespace AwsTunnel.Engine.Service.Api;

/// <summary>
/// The AWS JSON 1.1 envelope of the Secure Tunneling API (service model iotsecuretunneling
/// 2018-10-05): <c>POST /</c> with <c>X-Amz-Target: IoTSecuredTunneling.&lt;Operation&gt;</c>,
/// <c>Content-Type: application/x-amz-json-1.1</c> and a SigV4 Authorization header. It checks
/// the envelope, finds the operation, reads its JSON and turns results and failures into
/// JSON 1.1 bodies (<c>__type</c>, <c>message</c>).
/// </summary>
internal sealed class SecureTunnelingApi
{
    public const string TargetPrefix = "IoTSecuredTunneling.";
    public const string ContentType = "application/x-amz-json-1.1";

    private static readonly ApiJsonContext Json = ApiJsonContext.Default;

    private readonly SecureTunnelingOperations _operations;
    private readonly LocalTunnelServiceOptions _options;
    private readonly ILogger _logger;

    public SecureTunnelingApi(LocalTunnelRegistry registry, LocalTunnelServiceOptions options, ILogger logger)
    {
        _operations = new SecureTunnelingOperations(registry);
        _options = options;
        _logger = logger;
    }

    /// <summary>Checks a request's method and path before its body is read.</summary>
    /// <exception cref="ApiException">not <c>POST /</c>.</exception>
    public static void CheckRoute(HttpUpgradeRequest request)
    {
        if (request.Path != "/")
        {
            throw ApiException.NotFound(
                $"Path '{request.Path}' is not served. The Secure Tunneling API is POST / (X-Amz-Target: IoTSecuredTunneling.<Operation>); proxies connect with a WebSocket upgrade to /tunnel.");
        }

        if (request.Method != "POST")
        {
            throw ApiException.MethodNotAllowed(request.Method == "GET"
                ? "GET / without a WebSocket upgrade is not served. Call the Secure Tunneling API with POST / and X-Amz-Target: IoTSecuredTunneling.<Operation>, or connect a proxy with a WebSocket upgrade to /tunnel."
                : $"Method {request.Method} is not allowed; the Secure Tunneling API takes POST /.");
        }
    }

    /// <summary>Answers one request whose body has been read.</summary>
    public async Task<ApiResponse> HandleAsync(HttpUpgradeRequest request, ReadOnlyMemory<byte> body)
    {
        string operation = "(none)";
        try
        {
            CheckRoute(request);
            CheckContentType(request);
            var credential = SigV4Credential.Parse(request.Header("Authorization"));
            CheckCaller(credential);
            operation = Operation(request);
            var response = await InvokeAsync(operation, body, credential?.Region).ConfigureAwait(false);
            _logger.LogInformation("API {Operation}: 200", operation);
            return response;
        }
        catch (ApiException ex)
        {
            _logger.LogInformation("API {Operation}: {Status} {ErrorType}: {Message}", operation, ex.Status, ex.ErrorType, ex.Message);
            return Error(ex);
        }
        catch (Exception ex)
        {
            // A bug, not bad input: answer as AWS does (500 InternalFailure) and keep serving.
            _logger.LogError(ex, "API {Operation} failed unexpectedly", operation);
            return new ApiResponse(500, Serialize(new ErrorResponse("InternalFailure", $"The local service failed on {operation}: {ex.Message}"), Json.ErrorResponse), "InternalFailure");
        }
    }

    /// <summary>The JSON 1.1 error body of a refusal.</summary>
    public static ApiResponse Error(ApiException error) =>
        new(error.Status, Serialize(new ErrorResponse(error.ErrorType, error.Message), Json.ErrorResponse), error.ErrorType, error.CloseConnection);

    private async Task<ApiResponse> InvokeAsync(string operation, ReadOnlyMemory<byte> body, string? region) => operation switch
    {
        "OpenTunnel" => Ok(_operations.OpenTunnel(Read(body, Json.OpenTunnelRequest, operation), region), Json.OpenTunnelResponse),
        "CloseTunnel" => Ok(await _operations.CloseTunnelAsync(Read(body, Json.CloseTunnelRequest, operation)).ConfigureAwait(false), Json.EmptyResponse),
        "DescribeTunnel" => Ok(_operations.DescribeTunnel(Read(body, Json.DescribeTunnelRequest, operation)), Json.DescribeTunnelResponse),
        "ListTunnels" => Ok(_operations.ListTunnels(Read(body, Json.ListTunnelsRequest, operation)), Json.ListTunnelsResponse),
        "RotateTunnelAccessToken" => Ok(_operations.RotateTunnelAccessToken(Read(body, Json.RotateTunnelAccessTokenRequest, operation)), Json.RotateTunnelAccessTokenResponse),
        "TagResource" => Ok(_operations.TagResource(Read(body, Json.TagResourceRequest, operation)), Json.EmptyResponse),
        "UntagResource" => Ok(_operations.UntagResource(Read(body, Json.UntagResourceRequest, operation)), Json.EmptyResponse),
        "ListTagsForResource" => Ok(_operations.ListTagsForResource(Read(body, Json.ListTagsForResourceRequest, operation)), Json.ListTagsForResourceResponse),
        _ => throw ApiException.UnknownOperation(
            $"Operation '{operation}' is not an IoT Secure Tunneling operation. Known: OpenTunnel, CloseTunnel, DescribeTunnel, ListTunnels, RotateTunnelAccessToken, TagResource, UntagResource, ListTagsForResource."),
    };

    private static void CheckContentType(HttpUpgradeRequest request)
    {
        var types = request.Header("Content-Type");
        string? mediaType = types.Count == 1 ? types[0].Split(';')[0].Trim() : null;
        if (!string.Equals(mediaType, ContentType, StringComparison.OrdinalIgnoreCase))
        {
            throw ApiException.UnsupportedMediaType(
                $"Content-Type '{string.Join(", ", types)}' is not served; the Secure Tunneling API takes {ContentType} (AWS JSON 1.1).");
        }
    }

    private void CheckCaller(SigV4Credential? credential)
    {
        if (_options.AccessKeyId is not { } expected)
        {
            return;
        }

        if (credential is null)
        {
            throw ApiException.MissingAuthenticationToken(
                "The request is not signed, and this local service only accepts requests signed with its access key id: sign with SigV4 (an AWS SDK or CLI) using that key.");
        }

        if (credential.AccessKeyId != expected)
        {
            throw ApiException.UnrecognizedClient(
                "The request is signed with an access key id this local service does not accept; use the access key id it was started with.");
        }
    }

    private static string Operation(HttpUpgradeRequest request)
    {
        var targets = request.Header("X-Amz-Target");
        if (targets.Count != 1 || string.IsNullOrEmpty(targets[0]))
        {
            throw ApiException.UnknownOperation(
                $"The request has {(targets.Count == 0 ? "no" : "more than one")} X-Amz-Target header; send one, e.g. X-Amz-Target: {TargetPrefix}OpenTunnel.");
        }

        if (!targets[0].StartsWith(TargetPrefix, StringComparison.Ordinal))
        {
            throw ApiException.UnknownOperation(
                $"X-Amz-Target '{targets[0]}' is not for this service; its targets are {TargetPrefix}<Operation>, e.g. {TargetPrefix}OpenTunnel.");
        }

        return targets[0][TargetPrefix.Length..];
    }

    private static T Read<T>(ReadOnlyMemory<byte> body, JsonTypeInfo<T> type, string operation)
        where T : class, new()
    {
        // SDKs send "{}" for an empty input; an empty body means the same.
        if (body.Span.Trim(" \t\r\n"u8).IsEmpty)
        {
            return new T();
        }

        try
        {
            return JsonSerializer.Deserialize(body.Span, type) ?? new T();
        }
        catch (JsonException ex)
        {
            throw ApiException.Serialization($"The {operation} request body is not valid JSON for its shape: {ex.Message}");
        }
    }

    private static ApiResponse Ok<T>(T result, JsonTypeInfo<T> type) => new(200, Serialize(result, type));

    private static byte[] Serialize<T>(T value, JsonTypeInfo<T> type) => JsonSerializer.SerializeToUtf8Bytes(value, type);
}
