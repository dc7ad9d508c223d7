namespace AwsTunnel.Engine.Service.Api;

/// <summary>
/// A Secure Tunneling API call that fails: the HTTP status and the error type the SDKs map
/// to an exception class (<c>__type</c> of the JSON 1.1 error body), and a message that
/// names the input and the fix.
/// </summary>
internal sealed class ApiException : Exception
{
    private ApiException(int status, string errorType, string message, bool closeConnection = false)
        : base(message)
    {
        Status = status;
        ErrorType = errorType;
        CloseConnection = closeConnection;
    }

    public int Status { get; }

    public string ErrorType { get; }

    /// <summary>The connection cannot carry another request (the body was not read, or its framing is unknown).</summary>
    public bool CloseConnection { get; }

    // The service's modeled errors (service-2.json: no httpStatusCode trait, so 400).
    public static ApiException ResourceNotFound(string message) => new(400, "ResourceNotFoundException", message);

    public static ApiException LimitExceeded(string message) => new(400, "LimitExceededException", message);

    // The common errors of AWS JSON 1.1 services.
    public static ApiException Validation(string message) => new(400, "ValidationException", message);

    public static ApiException Serialization(string message) => new(400, "SerializationException", message);

    public static ApiException UnknownOperation(string message) => new(400, "UnknownOperationException", message);

    public static ApiException IncompleteSignature(string message) => new(400, "IncompleteSignatureException", message);

    public static ApiException MissingAuthenticationToken(string message) => new(403, "MissingAuthenticationTokenException", message);

    public static ApiException UnrecognizedClient(string message) => new(403, "UnrecognizedClientException", message);

    // HTTP-level refusals, in the same JSON 1.1 shape so every client reads them alike.
    public static ApiException NotFound(string message) => new(404, "UnknownOperationException", message);

    public static ApiException MethodNotAllowed(string message) => new(405, "MethodNotAllowedException", message);

    public static ApiException UnsupportedMediaType(string message) => new(415, "UnsupportedMediaTypeException", message);

    public static ApiException BadFraming(int status, string errorType, string message) => new(status, errorType, message, closeConnection: true);
}
