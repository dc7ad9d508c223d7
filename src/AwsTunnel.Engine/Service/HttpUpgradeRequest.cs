using System.Security.Cryptography;
using System.Text;

namespace AwsTunnel.Engine.Service;

/// <summary>
/// The HTTP/1.1 WebSocket upgrade request a local proxy sends, read from the raw stream
/// (the service must see the request line and headers to apply the tunneling rules), and
/// the responses to it. WebSocket framing itself is left to the BCL. The Secure Tunneling
/// API's requests share the port, so their heads are read here too.
/// </summary>
internal sealed class HttpUpgradeRequest
{
    /// <summary>The protocol's limit on the handshake request.</summary>
    public const int MaxRequestBytes = 4096;

    /// <summary>
    /// The limit on any request head: API calls signed with session credentials carry a
    /// security token of a kilobyte or more, so their heads may exceed the handshake's limit.
    /// </summary>
    public const int MaxHeadBytes = 16 * 1024;

    private readonly Dictionary<string, List<string>> _headers;

    private HttpUpgradeRequest(string method, string target, Dictionary<string, List<string>> headers)
    {
        Method = method;
        Target = target;
        _headers = headers;
        int q = target.IndexOf('?');
        Path = q < 0 ? target : target[..q];
        Query = q < 0 ? string.Empty : target[(q + 1)..];
    }

    public string Method { get; }
    public string Target { get; }
    public string Path { get; }
    public string Query { get; }

    /// <summary>The size of the head in bytes, with its closing blank line.</summary>
    public int HeadBytes { get; private set; }

    /// <summary>Bytes read past the head: the start of a body, or of the next pipelined request.</summary>
    public ReadOnlyMemory<byte> Excess { get; private set; }

    /// <summary>True for a WebSocket upgrade (the tunnel handshake), as opposed to an API call.</summary>
    public bool IsWebSocketUpgrade => HeaderTokens("Upgrade").Contains("websocket", StringComparer.OrdinalIgnoreCase);

    /// <summary>All values of a header (case-insensitive name).</summary>
    public IReadOnlyList<string> Header(string name) =>
        _headers.TryGetValue(name, out var values) ? values : Array.Empty<string>();

    /// <summary>The single value of a query parameter, or null.</summary>
    public string? QueryValue(string name)
    {
        foreach (var pair in Query.Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            int eq = pair.IndexOf('=');
            string key = Uri.UnescapeDataString(eq < 0 ? pair : pair[..eq]);
            if (key == name)
            {
                return eq < 0 ? string.Empty : Uri.UnescapeDataString(pair[(eq + 1)..]);
            }
        }

        return null;
    }

    /// <summary>All values of a cookie across Cookie headers.</summary>
    public IReadOnlyList<string> Cookie(string name) =>
        Header("Cookie")
            .SelectMany(h => h.Split(';', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            .Select(c => c.Split('=', 2))
            .Where(kv => kv.Length == 2 && kv[0] == name)
            .Select(kv => kv[1])
            .ToList();

    /// <summary>Comma-separated tokens of a header (e.g. offered subprotocols).</summary>
    public IReadOnlyList<string> HeaderTokens(string name) =>
        Header(name).SelectMany(h => h.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)).ToList();

    /// <summary>
    /// Reads a request head of at most <paramref name="maxBytes"/>, starting with bytes already
    /// read (<paramref name="prefix"/>); null when it is malformed, too large, or the stream ended.
    /// </summary>
    public static async Task<HttpUpgradeRequest?> ReadAsync(Stream stream, CancellationToken cancellationToken, int maxBytes = MaxRequestBytes, ReadOnlyMemory<byte> prefix = default)
    {
        var buffer = new byte[Math.Max(maxBytes, prefix.Length)];
        prefix.CopyTo(buffer);
        int filled = prefix.Length;
        while (true)
        {
            int end = IndexOfHeadEnd(buffer.AsSpan(0, filled));
            if (end >= 0 && end + 4 <= maxBytes)
            {
                var request = Parse(Encoding.Latin1.GetString(buffer, 0, end));
                if (request is not null)
                {
                    request.HeadBytes = end + 4;
                    request.Excess = buffer.AsMemory(end + 4, filled - end - 4);
                }

                return request;
            }

            if (filled >= maxBytes)
            {
                return null;
            }

            // Byte by byte would be slow; what is read past the head is kept in Excess (a proxy
            // sends nothing before the 101, an API client sends its body).
            int read = await stream.ReadAsync(buffer.AsMemory(filled, maxBytes - filled), cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                return null;
            }

            filled += read;
        }
    }

    private static int IndexOfHeadEnd(ReadOnlySpan<byte> data) => data.IndexOf("\r\n\r\n"u8);

    private static HttpUpgradeRequest? Parse(string head)
    {
        var lines = head.Split("\r\n");
        var requestLine = lines[0].Split(' ');
        if (requestLine.Length != 3 || !requestLine[2].StartsWith("HTTP/1.", StringComparison.Ordinal))
        {
            return null;
        }

        var headers = new Dictionary<string, List<string>>(StringComparer.OrdinalIgnoreCase);
        foreach (var line in lines.Skip(1))
        {
            int colon = line.IndexOf(':');
            if (colon <= 0)
            {
                return null;
            }

            string name = line[..colon].Trim();
            if (!headers.TryGetValue(name, out var values))
            {
                headers[name] = values = new List<string>();
            }

            values.Add(line[(colon + 1)..].Trim());
        }

        return new HttpUpgradeRequest(requestLine[0], requestLine[1], headers);
    }

    /// <summary>Writes a refusal with a plain-text reason and the channel id.</summary>
    public static Task WriteRejectionAsync(Stream stream, int status, string reason, string channelId, CancellationToken cancellationToken)
    {
        string body = reason + "\n";
        string text =
            $"HTTP/1.1 {status} {ReasonPhrase(status)}\r\n" +
            $"channel-id: {channelId}\r\n" +
            "Content-Type: text/plain; charset=utf-8\r\n" +
            $"Content-Length: {Encoding.UTF8.GetByteCount(body)}\r\n" +
            "Connection: close\r\n\r\n" + body;
        return stream.WriteAsync(Encoding.UTF8.GetBytes(text), cancellationToken).AsTask();
    }

    /// <summary>Writes the 101 that completes the upgrade.</summary>
    public static Task WriteAcceptAsync(Stream stream, string webSocketKey, string subprotocol, string channelId, CancellationToken cancellationToken)
    {
        string accept = Convert.ToBase64String(SHA1.HashData(Encoding.ASCII.GetBytes(webSocketKey + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")));
        string text =
            "HTTP/1.1 101 Switching Protocols\r\n" +
            "Upgrade: websocket\r\n" +
            "Connection: Upgrade\r\n" +
            $"Sec-WebSocket-Accept: {accept}\r\n" +
            $"Sec-WebSocket-Protocol: {subprotocol}\r\n" +
            $"channel-id: {channelId}\r\n\r\n";
        return stream.WriteAsync(Encoding.ASCII.GetBytes(text), cancellationToken).AsTask();
    }

    /// <summary>The reason phrase of the statuses the service answers.</summary>
    internal static string ReasonPhrase(int status) => status switch
    {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        409 => "Conflict",
        410 => "Gone",
        411 => "Length Required",
        413 => "Content Too Large",
        415 => "Unsupported Media Type",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        _ => "Error",
    };
}
