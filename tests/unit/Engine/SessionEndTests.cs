using System.Net.WebSockets;
using AwsTunnel.Engine.Protocol;
using AwsTunnel.Engine.Tunnel;
using Google.Protobuf;
using AwsTunnel.Tests.Support;

namespace AwsTunnel.Tests.Engine;

/// <summary>How sessions start and end against the service: refusals, closes, replacement, TLS.</summary>
public class SessionEndTests
{
    [Fact]
    public async Task A_wrong_access_token_is_refused_with_a_handshake_error_that_does_not_contain_the_token()
    {
        await using var harness = await TunnelHarness.StartAsync(new[] { "SSH1" });
        var options = harness.Options(TunnelMode.Source, "SSH1=0") with { AccessToken = "not-a-real-token-0123456789" };

        var error = await Assert.ThrowsAsync<TunnelStartException>(() => harness.StartAsync(options));

        Assert.Equal(TunnelStartFailure.HandshakeRejected, error.Failure);
        Assert.Contains("HTTP 401", error.Message);
        Assert.DoesNotContain("not-a-real-token", error.Message);
    }

    [Fact]
    public async Task A_destination_token_used_in_source_mode_is_refused()
    {
        await using var harness = await TunnelHarness.StartAsync(new[] { "SSH1" });
        var options = harness.Options(TunnelMode.Source, "SSH1=0") with { AccessToken = harness.Tunnel.DestinationAccessToken };

        var error = await Assert.ThrowsAsync<TunnelStartException>(() => harness.StartAsync(options));

        Assert.Equal(TunnelStartFailure.HandshakeRejected, error.Failure);
        Assert.Contains("HTTP 400", error.Message);
    }

    [Fact]
    public async Task Closing_the_tunnel_ends_both_sessions_as_closed_by_the_service()
    {
        await using var harness = await TunnelHarness.StartAsync(new[] { "SSH1" });
        var destination = await harness.StartDestinationAsync("SSH1=127.0.0.1:9");
        var source = await harness.StartSourceAsync("SSH1=0");

        await harness.Service.CloseTunnelAsync(harness.Tunnel.TunnelId);

        var ends = await Task.WhenAll(source.Completion, destination.Completion).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.All(ends, end => Assert.Equal(TunnelEndReason.TunnelClosed, end.Reason));
        Assert.Equal(TunnelState.Ended, source.State);
    }

    [Fact]
    public async Task A_second_proxy_with_the_same_token_and_client_token_replaces_the_first()
    {
        await using var harness = await TunnelHarness.StartAsync(new[] { "SSH1" });
        var options = harness.Options(TunnelMode.Source, "SSH1=0") with { ClientToken = TunnelOptions.NewClientToken() };
        var first = await harness.StartAsync(options);

        var second = await harness.StartAsync(options);

        var end = await first.Completion.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(TunnelEndReason.PeerReplaced, end.Reason);
        Assert.Equal(TunnelState.Connected, second.State);
    }

    [Fact]
    public async Task A_reconnect_with_a_different_client_token_is_refused()
    {
        await using var harness = await TunnelHarness.StartAsync(new[] { "SSH1" });
        var options = harness.Options(TunnelMode.Source, "SSH1=0");
        await harness.StartAsync(options with { ClientToken = TunnelOptions.NewClientToken() });

        var error = await Assert.ThrowsAsync<TunnelStartException>(() => harness.StartAsync(options with { ClientToken = TunnelOptions.NewClientToken() }));

        Assert.Equal(TunnelStartFailure.HandshakeRejected, error.Failure);
    }

    [Fact]
    public async Task An_access_token_used_without_a_client_token_works_only_once()
    {
        await using var harness = await TunnelHarness.StartAsync(new[] { "SSH1" });
        var uri = new Uri(harness.Service.Endpoint, "/tunnel?local-proxy-mode=source");

        using (var first = RawSocket(harness.Tunnel.SourceAccessToken))
        {
            await first.ConnectAsync(uri, CancellationToken.None);
            await first.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", CancellationToken.None);
        }

        using var second = RawSocket(harness.Tunnel.SourceAccessToken);
        await Assert.ThrowsAsync<WebSocketException>(() => second.ConnectAsync(uri, CancellationToken.None));
        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, second.HttpStatusCode);
    }

    private static ClientWebSocket RawSocket(string token)
    {
        var socket = new ClientWebSocket();
        socket.Options.SetRequestHeader("access-token", token);
        socket.Options.AddSubProtocol(Subprotocols.V3);
        socket.Options.CollectHttpResponseDetails = true;
        return socket;
    }

    [Fact]
    public async Task Over_wss_a_trusted_service_certificate_works()
    {
        await using var echo = new EchoServer();
        await using var harness = await TunnelHarness.StartAsync(new[] { "SSH1" }, tls: true);
        await harness.StartDestinationAsync($"SSH1=127.0.0.1:{echo.Port}");
        var source = await harness.StartSourceAsync("SSH1=0");

        using var socket = await TcpProbe.ConnectAsync(source.Ports["SSH1"]);
        Assert.Equal("over tls", await TcpProbe.EchoAsync(socket, "over tls"));
        Assert.Equal("wss", harness.Service.Endpoint.Scheme);
    }

    [Fact]
    public async Task Over_wss_an_untrusted_service_certificate_is_refused_saying_the_chain_check_failed()
    {
        await using var harness = await TunnelHarness.StartAsync(new[] { "SSH1" }, tls: true);
        var options = harness.Options(TunnelMode.Source, "SSH1=0") with { TrustedCertificates = null };

        var error = await Assert.ThrowsAsync<TunnelStartException>(() => harness.StartAsync(options));

        Assert.Contains("chain check failed", error.Message);
    }

    [Fact]
    public async Task Stopping_a_session_releases_its_listener()
    {
        await using var harness = await TunnelHarness.StartAsync(new[] { "SSH1" });
        var source = await harness.StartSourceAsync("SSH1=0");
        int port = source.Ports["SSH1"];

        await source.StopAsync();

        var end = await source.Completion;
        Assert.Equal(TunnelEndReason.Stopped, end.Reason);
        using var rebind = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, port);
        rebind.Start();
    }
}

/// <summary>A tunnel that reaches its lifetime ends both sessions as closed by the service.</summary>
public class TunnelExpiryTests
{
    [Fact]
    public async Task A_tunnel_past_its_lifetime_ends_both_sessions_as_closed_saying_it_expired()
    {
        await using var service = new AwsTunnel.Engine.Service.LocalTunnelService();
        await service.StartAsync();
        // Long enough for both proxies to connect on a loaded machine before it expires.
        var tunnel = service.CreateTunnel(new[] { "SSH1" }, lifetime: TimeSpan.FromSeconds(4));
        await using var destination = new TunnelClient(new TunnelOptions
        {
            Mode = TunnelMode.Destination, ServiceUri = service.Endpoint, AccessToken = tunnel.DestinationAccessToken,
            Services = ServiceMapping.ParseList("SSH1=127.0.0.1:9", "test"),
        });
        await using var source = new TunnelClient(new TunnelOptions
        {
            Mode = TunnelMode.Source, ServiceUri = service.Endpoint, AccessToken = tunnel.SourceAccessToken,
        });
        await destination.StartAsync();
        await source.StartAsync();

        var ends = await Task.WhenAll(source.Completion, destination.Completion).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.All(ends, e => Assert.Equal(TunnelEndReason.TunnelClosed, e.Reason));
        Assert.All(ends, e => Assert.Contains("expired", e.Message));
        Assert.False(tunnel.IsOpen);
    }
}

/// <summary>The local service applies the service's own rules to what proxies send.</summary>
public class LocalServiceRuleTests
{
    [Fact]
    public async Task A_proxy_that_sends_unknown_fields_loses_its_WebSocket_with_a_log_line_naming_the_violation()
    {
        await using var harness = await TunnelHarness.StartAsync(new[] { "SSH1" });
        using var socket = new ClientWebSocket();
        socket.Options.SetRequestHeader("access-token", harness.Tunnel.SourceAccessToken);
        socket.Options.AddSubProtocol(Subprotocols.V3);
        await socket.ConnectAsync(new Uri(harness.Service.Endpoint, "/tunnel?local-proxy-mode=source"), CancellationToken.None);
        var body = Messages.StreamStart(1, "SSH1", 1).ToByteArray().Concat(new byte[] { 0x48, 0x01 }).ToArray();

        await socket.SendAsync(new[] { (byte)0, (byte)body.Length }.Concat(body).ToArray(), WebSocketMessageType.Binary, true, CancellationToken.None);

        var buffer = new byte[4096];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        WebSocketReceiveResult result;
        do
        {
            result = await socket.ReceiveAsync(buffer, timeout.Token);
        }
        while (result.MessageType != WebSocketMessageType.Close);
        Assert.Equal(WebSocketCloseStatus.ProtocolError, socket.CloseStatus);
        Assert.Contains("unknown fields", socket.CloseStatusDescription);
        await harness.Logs.WaitForLineAsync(l => l.StartsWith("Warning") && l.Contains("unknown fields"), "the service's log line");
    }
}
