using AwsTunnel.Engine.Protocol;
using AwsTunnel.Engine.Service;
using AwsTunnel.Engine.Tunnel;
using AwsTunnel.Tests.Support;

namespace AwsTunnel.Tests.Service;

/// <summary>The local service's tunnel registry: one open path, limits, rotation, and the events observers hook into.</summary>
public class TunnelRegistryTests
{
    [Fact]
    public async Task Observers_hear_of_a_tunnel_opened_with_a_thing_name_its_token_rotation_and_its_close()
    {
        await using var service = new LocalTunnelService();
        await service.StartAsync();
        var heard = new List<string>();
        service.Registry.Opened += (_, e) => heard.Add($"opened {e.Tunnel.ThingName} [{string.Join(",", e.Tunnel.Services)}]");
        service.Registry.AccessTokensRotated += (_, e) => heard.Add($"rotated {e.Rotated} {e.Tunnel.ThingName}");
        service.Registry.Closed += (_, e) => heard.Add($"closed: {e.Reason}");

        var tunnel = service.Registry.Open(new LocalTunnelSpec { Services = new[] { "SSH" }, ThingName = "pump-7" });
        Assert.True(service.Registry.RotateAccessTokens(tunnel, TunnelClientMode.Destination, thingName: "pump-8"));
        await service.CloseTunnelAsync(tunnel.TunnelId);
        await service.CloseTunnelAsync(tunnel.TunnelId);

        Assert.Equal(new[] { "opened pump-7 [SSH]", "rotated Destination pump-8", "closed: closed by CloseTunnel" }, heard);
    }

    [Fact]
    public async Task A_failing_observer_does_not_stop_the_tunnel_from_opening()
    {
        var logs = new LogCapture();
        await using var service = new LocalTunnelService(new LocalTunnelServiceOptions { LoggerFactory = logs });
        await service.StartAsync();
        service.Registry.Opened += (_, _) => throw new InvalidOperationException("observer broke");

        var tunnel = service.CreateTunnel(new[] { "SSH" });

        Assert.True(tunnel.IsOpen);
        Assert.Same(tunnel, service.FindTunnel(tunnel.TunnelId));
        Assert.Contains("observer broke", logs.All);
    }

    [Fact]
    public async Task Opening_past_the_open_tunnel_limit_fails_and_a_closed_tunnel_frees_a_place()
    {
        await using var service = new LocalTunnelService(new LocalTunnelServiceOptions { MaxOpenTunnels = 2 });
        await service.StartAsync();
        var first = service.CreateTunnel();
        service.CreateTunnel();

        var error = Assert.Throws<TunnelLimitExceededException>(() => service.CreateTunnel());
        Assert.Contains("2 open tunnels", error.Message);

        await service.CloseTunnelAsync(first.TunnelId);
        Assert.True(service.CreateTunnel().IsOpen);
    }

    [Fact]
    public async Task A_rotated_source_token_is_refused_saying_it_was_rotated_and_the_new_one_connects()
    {
        await using var harness = await TunnelHarness.StartAsync(new[] { "SSH1" });
        var oldToken = harness.Tunnel.SourceAccessToken;
        var source = await harness.StartSourceAsync("SSH1=0");

        harness.Service.Registry.RotateAccessTokens(harness.Tunnel, TunnelClientMode.Source);

        var end = await source.Completion.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(TunnelEndReason.HandshakeRejected, end.Reason);
        Assert.Contains("HTTP 401", end.Message);
        Assert.Contains("replaced by RotateTunnelAccessToken", harness.Logs.All);
        Assert.NotEqual(oldToken, harness.Tunnel.SourceAccessToken);
        var again = await harness.StartSourceAsync("SSH1=0");
        Assert.Equal(TunnelState.Connected, again.State);
    }

    [Fact]
    public async Task A_closed_tunnel_keeps_its_tokens_when_asked_to_rotate()
    {
        await using var harness = await TunnelHarness.StartAsync(new[] { "SSH1" });
        var token = harness.Tunnel.DestinationAccessToken;
        await harness.Service.CloseTunnelAsync(harness.Tunnel.TunnelId);

        Assert.False(harness.Service.Registry.RotateAccessTokens(harness.Tunnel, TunnelClientMode.All));
        Assert.Equal(token, harness.Tunnel.DestinationAccessToken);
    }
}
