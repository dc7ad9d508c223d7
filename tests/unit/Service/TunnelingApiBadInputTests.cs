using System.Net;
using System.Net.Sockets;
using System.Text;
using AwsTunnel.Engine.Service;
using AwsTunnel.Tests.Support;

namespace AwsTunnel.Tests.Service;

/// <summary>
/// Bad input to the API gets a JSON 1.1 error, the connection stays usable where its framing
/// allows, and existing tunnels carry on.
/// </summary>
public class TunnelingApiBadInputTests
{
    [Fact]
    public async Task Malformed_JSON_is_a_SerializationException()
    {
        await using var host = await ApiHost.StartAsync();

        var result = await host.Client.CallAsync("OpenTunnel", """{"description": "unterminated""");

        result.AssertError(HttpStatusCode.BadRequest, "SerializationException");
        Assert.Empty(host.Service.Tunnels);
    }

    [Fact]
    public async Task A_field_of_the_wrong_JSON_type_is_a_SerializationException()
    {
        await using var host = await ApiHost.StartAsync();

        var result = await host.Client.CallAsync("ListTunnels", """{"maxResults":"ten"}""");

        Assert.Contains("maxResults", result.AssertError(HttpStatusCode.BadRequest, "SerializationException"));
    }

    [Theory]
    [InlineData("OpenTunnels")]
    [InlineData("DeleteTunnel")]
    public async Task An_unknown_operation_is_an_UnknownOperationException_naming_the_known_ones(string operation)
    {
        await using var host = await ApiHost.StartAsync();

        var result = await host.Client.CallAsync(operation);

        var message = result.AssertError(HttpStatusCode.BadRequest, "UnknownOperationException");
        Assert.Contains(operation, message);
        Assert.Contains("RotateTunnelAccessToken", message);
    }

    [Fact]
    public async Task A_target_of_another_service_or_none_is_an_UnknownOperationException()
    {
        await using var host = await ApiHost.StartAsync();

        var other = await RawHttp.SendAsync(host.Service, Request("POST", "/", "{}", target: "DynamoDB_20120810.ListTables"));
        var none = await RawHttp.SendAsync(host.Service, Request("POST", "/", "{}", target: null));

        Assert.Contains("DynamoDB_20120810.ListTables", other.AssertError(HttpStatusCode.BadRequest, "UnknownOperationException"));
        Assert.Contains("no X-Amz-Target", none.AssertError(HttpStatusCode.BadRequest, "UnknownOperationException"));
    }

    [Theory]
    [InlineData("application/json")]
    [InlineData("text/plain")]
    [InlineData(null)]
    public async Task A_wrong_content_type_is_a_415_UnsupportedMediaTypeException(string? contentType)
    {
        await using var host = await ApiHost.StartAsync();

        var result = await host.Client.CallAsync("ListTunnels", contentType: contentType);

        Assert.Contains("application/x-amz-json-1.1", result.AssertError(HttpStatusCode.UnsupportedMediaType, "UnsupportedMediaTypeException"));
    }

    [Fact]
    public async Task A_body_over_64_KiB_is_a_413_and_ends_that_connection_only()
    {
        await using var host = await ApiHost.StartAsync();
        string big = $$"""{"description":"{{new string('x', 70 * 1024)}}"}""";

        var result = await host.Client.CallAsync("OpenTunnel", big);

        Assert.Contains("65536", result.AssertError(HttpStatusCode.RequestEntityTooLarge, "RequestEntityTooLargeException"));
        Assert.Empty(host.Service.Tunnels);
        await host.Client.OkAsync("ListTunnels");
    }

    [Fact]
    public async Task A_GET_on_the_root_without_a_WebSocket_upgrade_is_a_405_JSON_error()
    {
        await using var host = await ApiHost.StartAsync();
        using var http = new HttpClient();

        using var response = await http.GetAsync(host.Service.ApiEndpoint);
        var result = await ApiResult.ReadAsync(response);

        Assert.Contains("WebSocket", result.AssertError(HttpStatusCode.MethodNotAllowed, "MethodNotAllowedException"));
        Assert.Equal("POST", string.Join(",", response.Content.Headers.Allow));
    }

    [Fact]
    public async Task A_POST_to_another_path_is_a_404_JSON_error()
    {
        await using var host = await ApiHost.StartAsync();

        var result = await RawHttp.SendAsync(host.Service, Request("POST", "/tunnels", "{}"));

        Assert.Contains("/tunnels", result.AssertError(HttpStatusCode.NotFound, "UnknownOperationException"));
    }

    [Fact]
    public async Task A_chunked_body_is_a_411_asking_for_Content_Length()
    {
        await using var host = await ApiHost.StartAsync();
        string request = "POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: IoTSecuredTunneling.ListTunnels\r\n" +
            "Content-Type: application/x-amz-json-1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n";

        var result = await RawHttp.SendAsync(host.Service, request);

        Assert.Contains("Content-Length", result.AssertError(HttpStatusCode.LengthRequired, "LengthRequiredException"));
    }

    [Fact]
    public async Task Requests_pipelined_on_one_kept_alive_connection_are_all_answered_in_order()
    {
        await using var host = await ApiHost.StartAsync();
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, host.Service.ApiEndpoint.Port);
        var stream = client.GetStream();
        string pipelined = Request("POST", "/", "{}", target: "IoTSecuredTunneling.OpenTunnel")
            + Request("POST", "/", "not json", target: "IoTSecuredTunneling.OpenTunnel")
            + Request("POST", "/", "{}", target: "IoTSecuredTunneling.ListTunnels");

        await stream.WriteAsync(Encoding.ASCII.GetBytes(pipelined));

        var first = await RawHttp.ReadResponseAsync(stream);
        var second = await RawHttp.ReadResponseAsync(stream);
        var third = await RawHttp.ReadResponseAsync(stream);
        Assert.Equal(HttpStatusCode.OK, first.Status);
        second.AssertError(HttpStatusCode.BadRequest, "SerializationException");
        Assert.Single(third.Json!["tunnelSummaries"]!.AsArray());
    }

    [Fact]
    public async Task Expect_100_continue_gets_a_continue_before_the_body_is_sent()
    {
        await using var host = await ApiHost.StartAsync();
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, host.Service.ApiEndpoint.Port);
        var stream = client.GetStream();
        string head = "POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: IoTSecuredTunneling.ListTunnels\r\n" +
            "Content-Type: application/x-amz-json-1.1\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n";

        await stream.WriteAsync(Encoding.ASCII.GetBytes(head));
        var buffer = new byte[25];
        await stream.ReadExactlyAsync(buffer);
        Assert.Equal("HTTP/1.1 100 Continue\r\n\r\n", Encoding.ASCII.GetString(buffer));
        await stream.WriteAsync("{}"u8.ToArray());

        Assert.Equal(HttpStatusCode.OK, (await RawHttp.ReadResponseAsync(stream)).Status);
    }

    [Fact]
    public async Task A_client_that_stops_sending_its_body_does_not_block_other_calls()
    {
        await using var host = await ApiHost.StartAsync();
        using var stalled = new TcpClient();
        await stalled.ConnectAsync(IPAddress.Loopback, host.Service.ApiEndpoint.Port);
        string head = "POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: IoTSecuredTunneling.OpenTunnel\r\n" +
            "Content-Type: application/x-amz-json-1.1\r\nContent-Length: 1000\r\n\r\n{";
        await stalled.GetStream().WriteAsync(Encoding.ASCII.GetBytes(head));

        await host.Client.OkAsync("OpenTunnel");

        // The request deadline (10 s) ends the stalled connection; the hang guard is generous.
        var buffer = new byte[1];
        int read = await stalled.GetStream().ReadAsync(buffer).AsTask().WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(0, read);
        Assert.Single(host.Service.Tunnels);
    }

    [Fact]
    public async Task With_an_access_key_configured_unsigned_and_foreign_requests_are_refused_with_403()
    {
        await using var host = await ApiHost.StartAsync(new LocalTunnelServiceOptions { AccessKeyId = "AKIDLOCALTESTS" });
        using var unsigned = new TunnelingApiClient(host.Service.ApiEndpoint, accessKeyId: null);
        using var foreign = new TunnelingApiClient(host.Service.ApiEndpoint, accessKeyId: "AKIDSOMEONEELSE");
        using var owner = new TunnelingApiClient(host.Service.ApiEndpoint, accessKeyId: "AKIDLOCALTESTS");

        (await unsigned.CallAsync("ListTunnels")).AssertError(HttpStatusCode.Forbidden, "MissingAuthenticationTokenException");
        (await foreign.CallAsync("ListTunnels")).AssertError(HttpStatusCode.Forbidden, "UnrecognizedClientException");
        await owner.OkAsync("ListTunnels");
    }

    [Fact]
    public async Task An_Authorization_header_that_is_not_SigV4_is_an_IncompleteSignatureException()
    {
        await using var host = await ApiHost.StartAsync();
        string request = "POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: IoTSecuredTunneling.ListTunnels\r\n" +
            "Content-Type: application/x-amz-json-1.1\r\nAuthorization: Basic dXNlcjpwYXNz\r\nContent-Length: 2\r\n\r\n{}";

        var result = await RawHttp.SendAsync(host.Service, request);

        Assert.Contains("AWS4-HMAC-SHA256", result.AssertError(HttpStatusCode.BadRequest, "IncompleteSignatureException"));
    }

    [Fact]
    public async Task Bad_input_to_the_API_leaves_connected_tunnels_carrying_data()
    {
        await using var echo = new EchoServer();
        await using var harness = await TunnelHarness.StartAsync(new[] { "ECHO" });
        await harness.StartDestinationAsync($"ECHO=127.0.0.1:{echo.Port}");
        var source = await harness.StartSourceAsync("ECHO=0");
        using var api = new TunnelingApiClient(harness.Service.ApiEndpoint);
        using var socket = await TcpProbe.ConnectAsync(source.Ports["ECHO"]);
        Assert.Equal("before", await TcpProbe.EchoAsync(socket, "before"));

        await api.CallAsync("OpenTunnel", "{{{");
        await api.CallAsync("Nope");
        await api.CallAsync("OpenTunnel", $$"""{"description":"{{new string('x', 100 * 1024)}}"}""");
        await api.CallAsync("ListTunnels", contentType: "text/plain");
        await api.CallAsync("CloseTunnel", new { tunnelId = "" });
        await RawHttp.SendAsync(harness.Service, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");

        Assert.Equal("after", await TcpProbe.EchoAsync(socket, "after"));
        Assert.True(harness.Tunnel.IsOpen && harness.Tunnel.SourceConnected && harness.Tunnel.DestinationConnected);
    }

    private static string Request(string method, string path, string body, string? target = "IoTSecuredTunneling.ListTunnels")
    {
        var text = new StringBuilder($"{method} {path} HTTP/1.1\r\nHost: x\r\n");
        if (target is not null)
        {
            text.Append($"X-Amz-Target: {target}\r\n");
        }

        text.Append($"Content-Type: application/x-amz-json-1.1\r\nContent-Length: {Encoding.UTF8.GetByteCount(body)}\r\n\r\n{body}");
        return text.ToString();
    }
}
