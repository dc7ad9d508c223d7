using System.Net;
using System.Net.Sockets;
using AwsTunnel.Engine.Protocol;
using AwsTunnel.Engine.Transport;
using AwsTunnel.Engine.Tunnel;
using AwsTunnel.Tests.Support;

namespace AwsTunnel.Tests.Settings;

/// <summary>
/// A tunnel session through a real HTTP proxy (tinyproxy on loopback): plain and
/// authenticated, wrong credentials, and a proxy that refuses CONNECT.
/// </summary>
public class WebProxyTunnelTests
{
    private const string Password = "s3cret-pa55";

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_source_reaches_the_service_through_a_proxy_without_authentication(bool tls)
    {
        await using var proxy = await TinyProxy.StartAsync();
        await using var echo = new EchoServer();
        await using var harness = await TunnelHarness.StartAsync(new[] { "SSH1" }, tls);
        await harness.StartDestinationAsync($"SSH1=127.0.0.1:{echo.Port}");

        var source = await harness.StartAsync(harness.Options(TunnelMode.Source, "SSH1=0") with
        {
            WebProxy = WebProxyResolver.Create(proxy.Address.ToString(), "HTTPS_PROXY"),
        });

        await AssertEchoesAsync(source.Ports["SSH1"]);
        Assert.Contains($"CONNECT", proxy.Log);
        Assert.Contains($":{harness.Service.Endpoint.Port}", proxy.Log);
    }

    [Fact]
    public async Task With_the_right_credentials_an_authenticating_proxy_lets_the_tunnel_through()
    {
        await using var proxy = await TinyProxy.StartAsync("tunnel-user", Password);
        await using var echo = new EchoServer();
        await using var harness = await TunnelHarness.StartAsync(new[] { "SSH1" }, tls: true);
        await harness.StartDestinationAsync($"SSH1=127.0.0.1:{echo.Port}");

        var source = await harness.StartAsync(harness.Options(TunnelMode.Source, "SSH1=0") with
        {
            WebProxy = WebProxyResolver.Create($"http://tunnel-user:{Password}@127.0.0.1:{proxy.Port}", "HTTPS_PROXY"),
        });

        await AssertEchoesAsync(source.Ports["SSH1"]);
        Assert.DoesNotContain(Password, harness.Logs.All);
    }

    [Fact]
    public async Task Percent_encoded_credentials_are_decoded_before_they_are_sent()
    {
        // tinyproxy only takes [A-Za-z0-9._-] in BasicAuth, so encode characters that need no encoding:
        // the proxy accepts them only if they were decoded.
        await using var proxy = await TinyProxy.StartAsync("al-ice", "pa_ss.1");
        await using var harness = await TunnelHarness.StartAsync(new[] { "SSH1" }, tls: true);

        var source = await harness.StartAsync(harness.Options(TunnelMode.Source, "SSH1=0") with
        {
            WebProxy = WebProxyResolver.Create($"http://al%2Dice:pa%5Fss%2E1@127.0.0.1:{proxy.Port}", "HTTPS_PROXY"),
        });

        Assert.Equal(TunnelState.Connected, source.State);
    }

    [Theory]
    [InlineData("tunnel-user", "wrong-password", "401")] // tinyproxy answers a wrong password with 401
    [InlineData(null, null, "407")]
    public async Task Wrong_or_missing_credentials_fail_naming_the_proxy_and_its_status_without_the_password(string? user, string? password, string status)
    {
        await using var proxy = await TinyProxy.StartAsync("tunnel-user", Password);
        await using var harness = await TunnelHarness.StartAsync(new[] { "SSH1" }, tls: true);
        string url = user is null ? $"http://127.0.0.1:{proxy.Port}" : $"http://{user}:{password}@127.0.0.1:{proxy.Port}";

        var error = await StartFailureAsync(harness, url);

        Assert.Contains($"http://127.0.0.1:{proxy.Port}", error.Message);
        Assert.Contains("proxy", error.Message);
        Assert.Contains(status, error.Message);
        Assert.DoesNotContain("wrong-password", error.Message);
        Assert.DoesNotContain("wrong-password", harness.Logs.All);
    }

    [Fact]
    public async Task A_proxy_that_refuses_connect_fails_naming_the_proxy_and_its_status()
    {
        await using var proxy = await TinyProxy.StartAsync(refuseConnect: true);
        await using var harness = await TunnelHarness.StartAsync(new[] { "SSH1" }, tls: true);

        var error = await StartFailureAsync(harness, $"http://127.0.0.1:{proxy.Port}");

        Assert.Contains($"http://127.0.0.1:{proxy.Port}", error.Message);
        Assert.Contains("proxy", error.Message);
        Assert.Contains("403", error.Message);
        Assert.Contains("CONNECT", proxy.Log);
    }

    [Fact]
    public async Task A_proxy_that_is_not_listening_fails_naming_it()
    {
        int port = FreePort();
        await using var harness = await TunnelHarness.StartAsync(new[] { "SSH1" }, tls: true);

        var error = await StartFailureAsync(harness, $"http://127.0.0.1:{port}");

        Assert.Contains($"http://127.0.0.1:{port}", error.Message);
    }

    [Fact]
    public async Task An_https_proxy_is_reached_over_tls()
    {
        using var ca = TestCertificateAuthority.CreateRoot();
        using var proxyCertificate = ca.IssueServer("localhost", "127.0.0.1");
        await using var proxy = await TinyProxy.StartAsync("tunnel-user", Password);
        await using var front = new TlsForwarder(proxyCertificate, proxy.Port);
        await using var echo = new EchoServer();
        await using var harness = await TunnelHarness.StartAsync(new[] { "SSH1" }, tls: true);
        await harness.StartDestinationAsync($"SSH1=127.0.0.1:{echo.Port}");
        var options = harness.Options(TunnelMode.Source, "SSH1=0");
        options.TrustedCertificates!.Add(ca.Certificate);

        var source = await harness.StartAsync(options with
        {
            WebProxy = WebProxyResolver.Create($"https://tunnel-user:{Password}@localhost:{front.Port}", "HTTPS_PROXY"),
        });

        await AssertEchoesAsync(source.Ports["SSH1"]);
        Assert.Contains("CONNECT", proxy.Log);
    }

    /// <summary>
    /// Starts a source through the proxy and returns the start failure. The first attempt fails
    /// at once and the start timeout falls in the long retry delay, so the failure carries
    /// that attempt's reason (a timeout during an attempt would only say "did not start").
    /// </summary>
    private static async Task<TunnelStartException> StartFailureAsync(TunnelHarness harness, string proxyUrl)
    {
        var options = harness.Options(TunnelMode.Source, "SSH1=0", TunnelHarness.FastSettings with { WebSocketRetryDelayMs = 30_000 }) with
        {
            WebProxy = WebProxyResolver.Create(proxyUrl, "HTTPS_PROXY"),
            StartTimeout = TimeSpan.FromSeconds(2),
        };
        return await Assert.ThrowsAsync<TunnelStartException>(() => new TunnelClient(options).StartAsync());
    }

    private static async Task AssertEchoesAsync(int port)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, port);
        var stream = client.GetStream();
        var sent = "through the web proxy"u8.ToArray();
        await stream.WriteAsync(sent);
        var received = new byte[sent.Length];
        await stream.ReadExactlyAsync(received).AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(sent, received);
    }

    private static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
