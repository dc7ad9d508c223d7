using AwsTunnel.Engine.Protocol;
using AwsTunnel.Engine.Tunnel;
using AwsTunnel.Tests.Support;

namespace AwsTunnel.Tests.Engine;

/// <summary>Access and client tokens never leave the process through logs, errors or ToString.</summary>
public class SecretHygieneTests
{
    [Fact]
    public async Task A_full_session_logged_at_trace_level_never_contains_a_token()
    {
        await using var echo = new EchoServer();
        await using var harness = await TunnelHarness.StartAsync(new[] { "SSH1" });
        string clientToken = TunnelOptions.NewClientToken();
        var destination = await harness.StartDestinationAsync($"SSH1=127.0.0.1:{echo.Port}");
        var sourceOptions = harness.Options(TunnelMode.Source, "SSH1=0") with { ClientToken = clientToken };
        var source = await harness.StartAsync(sourceOptions);
        using (var socket = await TcpProbe.ConnectAsync(source.Ports["SSH1"]))
        {
            Assert.Equal("secret-free", await TcpProbe.EchoAsync(socket, "secret-free"));
        }

        var refused = await Assert.ThrowsAsync<TunnelStartException>(() =>
            harness.StartAsync(sourceOptions with { ClientToken = TunnelOptions.NewClientToken() }));
        await harness.Service.CloseTunnelAsync(harness.Tunnel.TunnelId);
        var ends = await Task.WhenAll(source.Completion, destination.Completion).WaitAsync(TimeSpan.FromSeconds(10));

        var everything = string.Join("\n", harness.Logs.All, refused.ToString(), sourceOptions.ToString(),
            harness.Tunnel.ToString(), ends[0].Message);
        Assert.True(harness.Logs.Lines.Count > 10, "the session should have logged at several levels");
        Assert.DoesNotContain(harness.Tunnel.SourceAccessToken, everything);
        Assert.DoesNotContain(harness.Tunnel.DestinationAccessToken, everything);
        Assert.DoesNotContain(clientToken, everything);
    }
}
