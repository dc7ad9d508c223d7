using System.Net;
using System.Net.Sockets;
using System.Text;
using AwsTunnel.Engine.Service;

namespace AwsTunnel.Tests.Support;

/// <summary>HTTP/1.1 written and read by hand, for requests no HTTP client would send (chunked bodies, pipelining, odd targets).</summary>
public static class RawHttp
{
    /// <summary>Sends one raw request on a new connection and reads the response.</summary>
    public static async Task<ApiResult> SendAsync(LocalTunnelService service, string request)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, service.ApiEndpoint.Port);
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.UTF8.GetBytes(request));
        return await ReadResponseAsync(stream);
    }

    /// <summary>Reads one response with a Content-Length body.</summary>
    public static async Task<ApiResult> ReadResponseAsync(Stream stream)
    {
        var head = new List<byte>();
        var one = new byte[1];
        while (!EndsWithBlankLine(head))
        {
            if (await stream.ReadAsync(one).AsTask().WaitAsync(TimeSpan.FromSeconds(30)) == 0)
            {
                throw new IOException($"The connection ended inside a response head: {Encoding.ASCII.GetString(head.ToArray())}");
            }

            head.Add(one[0]);
        }

        var lines = Encoding.ASCII.GetString(head.ToArray()).Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        var status = (HttpStatusCode)int.Parse(lines[0].Split(' ')[1]);
        var headers = lines.Skip(1).Select(l => l.Split(':', 2)).ToDictionary(kv => kv[0].Trim(), kv => kv[1].Trim(), StringComparer.OrdinalIgnoreCase);
        var body = new byte[int.Parse(headers["Content-Length"])];
        await stream.ReadExactlyAsync(body).AsTask().WaitAsync(TimeSpan.FromSeconds(30));
        using var response = new HttpResponseMessage(status) { Content = new ByteArrayContent(body) };
        response.Content.Headers.TryAddWithoutValidation("Content-Type", headers.GetValueOrDefault("Content-Type"));
        return await ApiResult.ReadAsync(response);
    }

    private static bool EndsWithBlankLine(List<byte> head) =>
        head.Count >= 4 && head[^4] == '\r' && head[^3] == '\n' && head[^2] == '\r' && head[^1] == '\n';
}
