using AwsTunnel.Engine.Tunnel;
using AwsTunnel.Tests.Support;

namespace AwsTunnel.Tests.Engine;

/// <summary>The local mapping is checked against the services the tunnel was opened with.</summary>
public class ServiceValidationTests
{
    [Fact]
    public async Task A_destination_whose_mapping_names_other_services_fails_to_start_naming_both_sets()
    {
        await using var harness = await TunnelHarness.StartAsync(new[] { "SSH1", "SSH2" });

        var error = await Assert.ThrowsAsync<TunnelStartException>(() => harness.StartDestinationAsync("SSH3=127.0.0.1:22"));

        Assert.Equal(TunnelStartFailure.ServiceMismatch, error.Failure);
        Assert.Contains("SSH1, SSH2", error.Message);
        Assert.Contains("SSH3", error.Message);
    }

    [Fact]
    public async Task A_destination_missing_a_target_for_an_announced_service_fails_to_start()
    {
        await using var harness = await TunnelHarness.StartAsync(new[] { "SSH1", "SSH2" });

        var error = await Assert.ThrowsAsync<TunnelStartException>(() => harness.StartDestinationAsync("SSH1=127.0.0.1:22"));

        Assert.Equal(TunnelStartFailure.ServiceMismatch, error.Failure);
        Assert.Contains("SSH2", error.Message);
    }

    [Fact]
    public async Task A_source_without_a_port_for_a_service_listens_on_a_free_port()
    {
        await using var harness = await TunnelHarness.StartAsync(new[] { "SSH1", "WEB" });

        var source = await harness.StartSourceAsync("SSH1=0");

        Assert.Equal(new[] { "SSH1", "WEB" }, source.Ports.Keys.Order());
        Assert.All(source.Ports.Values, port => Assert.InRange(port, 1, 65535));
    }

    [Fact]
    public async Task A_bare_port_maps_to_the_only_service_of_the_tunnel()
    {
        await using var echo = new EchoServer();
        await using var harness = await TunnelHarness.StartAsync(new[] { "SSH1" });
        await harness.StartDestinationAsync($"{echo.Port}");
        var source = await harness.StartSourceAsync("0");

        using var socket = await TcpProbe.ConnectAsync(source.Ports["SSH1"]);
        Assert.Equal("bare", await TcpProbe.EchoAsync(socket, "bare"));
    }

    [Fact]
    public async Task A_source_port_already_in_use_fails_the_start_naming_the_port()
    {
        using var blocker = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        blocker.Start();
        int taken = ((System.Net.IPEndPoint)blocker.LocalEndpoint).Port;
        await using var harness = await TunnelHarness.StartAsync(new[] { "SSH1" });

        var error = await Assert.ThrowsAsync<TunnelStartException>(() => harness.StartSourceAsync($"SSH1={taken}"));

        Assert.Equal(TunnelStartFailure.PortInUse, error.Failure);
        Assert.Contains(taken.ToString(), error.Message);
    }
}
