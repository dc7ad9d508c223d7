using System.Globalization;
using System.Text;
using Microsoft.Extensions.Logging;

namespace AwsTunnel.Engine.Service.Api;

/// <summary>
/// One HTTP/1.1 connection carrying API calls: Content-Length bodies up to a cap, keep-alive
/// (SDKs reuse connections) with pipelined bytes kept, <c>Expect: 100-continue</c>, and
/// deadlines so a slow or idle client cannot hold the connection. Every refusal is a JSON
/// 1.1 error; only framing it cannot trust (no usable length, an oversized body) ends the connection.
/// </summary>
internal static class ApiHttpConnection
{
    /// <summary>The largest request body read (the largest real request, 200 tags, is far smaller).</summary>
    public const int MaxBodyBytes = 64 * 1024;

    /// <summary>From a request's head to its response written.</summary>
    public static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(10);

    /// <summary>How long a kept-alive connection may wait for its next request head.</summary>
    public static readonly TimeSpan IdleTimeout = TimeSpan.FromSeconds(60);

    // After refusing an oversized body, read this much of it at most, so the client sees the
    // answer rather than a reset from unread data; then close.
    private const int MaxDiscardBytes = 1024 * 1024;

    /// <summary>Serves <paramref name="first"/> and the requests that follow on the connection, then closes it.</summary>
    public static async Task ServeAsync(Stream stream, HttpUpgradeRequest first, SecureTunnelingApi api, ILogger logger, CancellationToken cancellationToken)
    {
        try
        {
            var request = first;
            while (true)
            {
                ReadOnlyMemory<byte> leftover;
                using (var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
                {
                    deadline.CancelAfter(RequestTimeout);
                    (var response, leftover, long discard) = await ReadAndHandleAsync(stream, request, api, deadline.Token).ConfigureAwait(false);
                    bool close = response.CloseConnection || WantsClose(request) || cancellationToken.IsCancellationRequested;
                    await WriteAsync(stream, response, close, deadline.Token).ConfigureAwait(false);
                    if (close)
                    {
                        await DiscardAsync(stream, discard, deadline.Token).ConfigureAwait(false);
                        return;
                    }
                }

                using var idle = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                idle.CancelAfter(IdleTimeout);
                var next = await HttpUpgradeRequest.ReadAsync(stream, idle.Token, HttpUpgradeRequest.MaxHeadBytes, leftover).ConfigureAwait(false);
                if (next is null)
                {
                    // The client closed its kept-alive connection, or sent a head that cannot be read.
                    return;
                }

                request = next;
            }
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or ObjectDisposedException)
        {
            logger.LogDebug("API connection ended: {Reason}", ex.Message);
        }
        finally
        {
            await stream.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Reads the body the head announces and answers the request; returns the bytes of the next request already read.</summary>
    private static async Task<(ApiResponse Response, ReadOnlyMemory<byte> Leftover, long Discard)> ReadAndHandleAsync(
        Stream stream, HttpUpgradeRequest request, SecureTunnelingApi api, CancellationToken cancellationToken)
    {
        if (request.IsWebSocketUpgrade)
        {
            return (Refuse(400, "BadRequestException", "A WebSocket upgrade must be the first request on its connection; connect again for it."), default, 0);
        }

        if (request.Header("Transfer-Encoding").Count > 0)
        {
            return (Refuse(411, "LengthRequiredException", "Transfer-Encoding is not accepted; send the request body with a Content-Length header."), default, 0);
        }

        var lengths = request.Header("Content-Length");
        long length = 0;
        if (lengths.Count > 1 || (lengths.Count == 1 &&
            !long.TryParse(lengths[0], NumberStyles.None, CultureInfo.InvariantCulture, out length)))
        {
            return (Refuse(400, "SerializationException", $"Content-Length '{string.Join(", ", lengths)}' is not one byte count; send one decimal Content-Length."), default, 0);
        }

        if (length > MaxBodyBytes)
        {
            return (Refuse(413, "RequestEntityTooLargeException",
                $"The request body is {length} bytes; this service takes at most {MaxBodyBytes} bytes (64 KiB) per request."), default, Math.Max(0, length - request.Excess.Length));
        }

        // A route error needs no body, but reading it keeps the connection usable for the next call.
        var body = new byte[length];
        int buffered = (int)Math.Min(length, request.Excess.Length);
        request.Excess[..buffered].CopyTo(body);
        if (buffered < length && request.Header("Expect").Any(e => e.Equals("100-continue", StringComparison.OrdinalIgnoreCase)))
        {
            await stream.WriteAsync("HTTP/1.1 100 Continue\r\n\r\n"u8.ToArray(), cancellationToken).ConfigureAwait(false);
        }

        await stream.ReadExactlyAsync(body.AsMemory(buffered), cancellationToken).ConfigureAwait(false);
        var response = await api.HandleAsync(request, body).ConfigureAwait(false);
        return (response, request.Excess[buffered..], 0);
    }

    private static ApiResponse Refuse(int status, string errorType, string message) =>
        SecureTunnelingApi.Error(ApiException.BadFraming(status, errorType, message));

    private static bool WantsClose(HttpUpgradeRequest request) =>
        request.HeaderTokens("Connection").Contains("close", StringComparer.OrdinalIgnoreCase);

    private static async Task WriteAsync(Stream stream, ApiResponse response, bool close, CancellationToken cancellationToken)
    {
        var head = new StringBuilder()
            .Append(CultureInfo.InvariantCulture, $"HTTP/1.1 {response.Status} {HttpUpgradeRequest.ReasonPhrase(response.Status)}\r\n")
            .Append(CultureInfo.InvariantCulture, $"x-amzn-RequestId: {Guid.NewGuid():D}\r\n")
            .Append(CultureInfo.InvariantCulture, $"Content-Type: {SecureTunnelingApi.ContentType}\r\n")
            .Append(CultureInfo.InvariantCulture, $"Content-Length: {response.Body.Length}\r\n");
        if (response.ErrorType is not null)
        {
            head.Append(CultureInfo.InvariantCulture, $"x-amzn-ErrorType: {response.ErrorType}\r\n");
        }

        if (response.Allow is not null)
        {
            head.Append(CultureInfo.InvariantCulture, $"Allow: {response.Allow}\r\n");
        }

        head.Append(close ? "Connection: close\r\n\r\n" : "\r\n");

        // One write: head and body in one segment, so no delayed-ACK wait splits them.
        var headBytes = Encoding.ASCII.GetBytes(head.ToString());
        var message = new byte[headBytes.Length + response.Body.Length];
        headBytes.CopyTo(message, 0);
        response.Body.CopyTo(message, headBytes.Length);
        await stream.WriteAsync(message, cancellationToken).ConfigureAwait(false);
        await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    private static async Task DiscardAsync(Stream stream, long bytes, CancellationToken cancellationToken)
    {
        var buffer = new byte[16 * 1024];
        long left = Math.Min(bytes, MaxDiscardBytes);
        while (left > 0)
        {
            int read = await stream.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, left)), cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                return;
            }

            left -= read;
        }
    }
}
