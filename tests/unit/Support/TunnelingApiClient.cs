using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace AwsTunnel.Tests.Support;

/// <summary>
/// Calls the local service's Secure Tunneling API over real HTTP, shaped as the SDKs send
/// (POST /, X-Amz-Target, application/x-amz-json-1.1, SigV4 Authorization), and returns the
/// status and the parsed JSON 1.1 body.
/// </summary>
public sealed class TunnelingApiClient : IDisposable
{
    private readonly HttpClient _http;
    private readonly Uri _endpoint;

    public TunnelingApiClient(Uri endpoint, string region = "us-west-2", string? accessKeyId = SigV4Signer.ExampleAccessKeyId)
    {
        _endpoint = endpoint;
        Region = region;
        AccessKeyId = accessKeyId;
        _http = new HttpClient(new SocketsHttpHandler
        {
            // The local service's TLS certificate is self-signed; trust is not what these tests check.
            SslOptions = { RemoteCertificateValidationCallback = (_, _, _, _) => true },
        })
        {
            Timeout = TimeSpan.FromSeconds(30),
        };
    }

    public string Region { get; }

    /// <summary>The access key id to sign with; null sends the request unsigned.</summary>
    public string? AccessKeyId { get; }

    /// <summary>Calls an operation with a JSON body (an object serialized, or a raw string).</summary>
    public async Task<ApiResult> CallAsync(string operation, object? input = null, string? contentType = "application/x-amz-json-1.1")
    {
        string json = input switch
        {
            null => "{}",
            string raw => raw,
            _ => JsonSerializer.Serialize(input),
        };
        byte[] body = Encoding.UTF8.GetBytes(json);
        string target = "IoTSecuredTunneling." + operation;
        using var request = new HttpRequestMessage(HttpMethod.Post, _endpoint) { Content = new ByteArrayContent(body) };
        if (contentType is not null)
        {
            request.Content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        }

        request.Headers.TryAddWithoutValidation("X-Amz-Target", target);
        if (AccessKeyId is not null)
        {
            foreach (var header in SigV4Signer.Sign(_endpoint.Authority, target, body, Region, AccessKeyId))
            {
                request.Headers.TryAddWithoutValidation(header.Key, header.Value);
            }
        }

        using var response = await _http.SendAsync(request);
        return await ApiResult.ReadAsync(response);
    }

    public async Task<JsonObject> OkAsync(string operation, object? input = null)
    {
        var result = await CallAsync(operation, input);
        Assert.True(result.Status == HttpStatusCode.OK, $"{operation} answered {(int)result.Status}: {result.Text}");
        return result.Json!;
    }

    public void Dispose() => _http.Dispose();
}

/// <summary>An API answer: status, content type, and the body as JSON (null if it is not).</summary>
public sealed record ApiResult(HttpStatusCode Status, string? ContentType, string Text, JsonObject? Json)
{
    public string? ErrorType => Json?["__type"]?.GetValue<string>();

    public string? Message => Json?["message"]?.GetValue<string>();

    public static async Task<ApiResult> ReadAsync(HttpResponseMessage response)
    {
        string text = await response.Content.ReadAsStringAsync();
        JsonObject? json = null;
        try
        {
            json = JsonNode.Parse(text) as JsonObject;
        }
        catch (JsonException)
        {
        }

        return new ApiResult(response.StatusCode, response.Content.Headers.ContentType?.MediaType, text, json);
    }

    /// <summary>Asserts a JSON 1.1 error of this status and type, and returns its message.</summary>
    public string AssertError(HttpStatusCode status, string errorType)
    {
        Assert.True(Status == status && ErrorType == errorType, $"expected {(int)status} {errorType}, got {(int)Status}: {Text}");
        Assert.Equal("application/x-amz-json-1.1", ContentType);
        Assert.False(string.IsNullOrWhiteSpace(Message), "the error has a message");
        return Message!;
    }
}
