namespace AwsTunnel.Engine.Service.Api;

/// <summary>
/// The credential scope of a SigV4 <c>Authorization</c> header
/// (<c>AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/iotsecuretunneling/aws4_request, SignedHeaders=..., Signature=...</c>):
/// who signed, and for which region. The signature is not verified: the local service does not know secrets.
/// </summary>
internal sealed record SigV4Credential(string AccessKeyId, string Date, string Region, string Service)
{
    private const string Algorithm = "AWS4-HMAC-SHA256";

    /// <summary>Parses the header; null when it is absent.</summary>
    /// <exception cref="ApiException">IncompleteSignatureException: the header is not a SigV4 authorization.</exception>
    public static SigV4Credential? Parse(IReadOnlyList<string> authorization)
    {
        if (authorization.Count == 0)
        {
            return null;
        }

        if (authorization.Count > 1)
        {
            throw ApiException.IncompleteSignature("The request has more than one Authorization header; sign it once with SigV4.");
        }

        string header = authorization[0];
        if (!header.StartsWith(Algorithm + " ", StringComparison.Ordinal))
        {
            throw ApiException.IncompleteSignature($"The Authorization header must start with '{Algorithm} ' (AWS Signature Version 4); sign the request with an AWS SDK or CLI.");
        }

        var parts = header[(Algorithm.Length + 1)..]
            .Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Select(p => p.Split('=', 2))
            .Where(kv => kv.Length == 2)
            .GroupBy(kv => kv[0], StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.First()[1], StringComparer.Ordinal);
        foreach (var name in new[] { "Credential", "SignedHeaders", "Signature" })
        {
            if (!parts.ContainsKey(name))
            {
                throw ApiException.IncompleteSignature($"The Authorization header has no {name}=...; a SigV4 authorization has Credential, SignedHeaders and Signature.");
            }
        }

        var scope = parts["Credential"].Split('/');
        if (scope.Length != 5 || scope[4] != "aws4_request" || scope.Take(4).Any(s => s.Length == 0))
        {
            throw ApiException.IncompleteSignature("The Authorization Credential must be ACCESS-KEY-ID/DATE/REGION/SERVICE/aws4_request.");
        }

        return new SigV4Credential(scope[0], scope[1], scope[2], scope[3]);
    }
}
