using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace AwsTunnel.Tests.Support;

/// <summary>
/// AWS Signature Version 4 for a JSON 1.1 POST, as the SDKs sign: canonical request,
/// string to sign, HMAC chain from the secret key. Test-side only, so requests reach the
/// local service shaped exactly as botocore or the .NET SDK send them.
/// </summary>
public static class SigV4Signer
{
    public const string ExampleAccessKeyId = "AKIDEXAMPLE";
    public const string ExampleSecretKey = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

    /// <summary>The headers to add: X-Amz-Date and Authorization (Content-Type, Host and X-Amz-Target are sent as given and signed).</summary>
    public static IReadOnlyList<KeyValuePair<string, string>> Sign(
        string host, string target, byte[] body, string region, string accessKeyId = ExampleAccessKeyId,
        string secretKey = ExampleSecretKey, string service = "IoTSecuredTunneling", DateTime? now = null)
    {
        var time = now ?? DateTime.UtcNow;
        string amzDate = time.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);
        string date = amzDate[..8];
        const string contentType = "application/x-amz-json-1.1";

        var signed = new SortedDictionary<string, string>(StringComparer.Ordinal)
        {
            ["content-type"] = contentType,
            ["host"] = host,
            ["x-amz-date"] = amzDate,
            ["x-amz-target"] = target,
        };
        string canonicalHeaders = string.Concat(signed.Select(h => $"{h.Key}:{h.Value}\n"));
        string signedHeaders = string.Join(";", signed.Keys);
        string canonicalRequest = $"POST\n/\n\n{canonicalHeaders}\n{signedHeaders}\n{Hex(SHA256.HashData(body))}";
        string scope = $"{date}/{region}/{service.ToLowerInvariant()}/aws4_request";
        string stringToSign = $"AWS4-HMAC-SHA256\n{amzDate}\n{scope}\n{Hex(SHA256.HashData(Encoding.UTF8.GetBytes(canonicalRequest)))}";

        byte[] key = Encoding.UTF8.GetBytes("AWS4" + secretKey);
        foreach (var part in new[] { date, region, service.ToLowerInvariant(), "aws4_request" })
        {
            key = HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(part));
        }

        string signature = Hex(HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(stringToSign)));
        return new[]
        {
            KeyValuePair.Create("X-Amz-Date", amzDate),
            KeyValuePair.Create("Authorization", $"AWS4-HMAC-SHA256 Credential={accessKeyId}/{scope}, SignedHeaders={signedHeaders}, Signature={signature}"),
        };
    }

    private static string Hex(byte[] bytes) => Convert.ToHexString(bytes).ToLowerInvariant();
}
