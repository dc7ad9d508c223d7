namespace AwsTunnel.Engine.Service.Api;

/// <summary>What the API answers to one request: a status and a JSON 1.1 body (a result or an error).</summary>
internal sealed record ApiResponse(int Status, byte[] Body, string? ErrorType = null, bool CloseConnection = false)
{
    /// <summary>For 405: the one method the API takes.</summary>
    public string? Allow => Status == 405 ? "POST" : null;
}
