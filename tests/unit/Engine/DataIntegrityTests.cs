using System.Net.Sockets;
using AwsTunnel.Tests.Support;

namespace AwsTunnel.Tests.Engine;

/// <summary>Bytes arrive intact, in order, both ways, through the local tunneling service.</summary>
public class DataIntegrityTests
{
    private const long BytesPerDirection = 32L * 1024 * 1024;

    /// <summary>This test checks the bytes, not the slow-reader policy: its queues hold a whole transfer (six connections of 32 MiB per side).</summary>
    private static readonly AwsTunnel.Engine.Settings.ProxySettings RoomForEverything = TunnelHarness.RoomForBulkSettings;

    [Fact]
    public async Task Two_services_with_three_connections_each_move_32_MiB_both_ways_intact()
    {
        await using var ssh = new ExchangeServer(BytesPerDirection);
        await using var web = new ExchangeServer(BytesPerDirection);
        await using var harness = await TunnelHarness.StartAsync(new[] { "SSH1", "WEB" });
        await harness.StartDestinationAsync($"SSH1=127.0.0.1:{ssh.Port},WEB=127.0.0.1:{web.Port}", RoomForEverything);
        var source = await harness.StartSourceAsync("SSH1=0,WEB=0", RoomForEverything);

        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        var clients = new List<Task<ExchangeResult>>();
        int seed = 1;
        foreach (var service in new[] { "SSH1", "WEB" })
        {
            for (int i = 0; i < 3; i++)
            {
                clients.Add(RunClientAsync(source.Ports[service], seed++, timeout.Token));
            }
        }

        var results = await Task.WhenAll(clients);
        await Eventually.TrueAsync(() => ssh.Results.Count == 3 && web.Results.Count == 3, "all six target connections to finish", 60000);
        var targets = ssh.Results.Concat(web.Results).ToList();

        Assert.All(results, r => Assert.Equal(BytesPerDirection, r.Received));
        Assert.All(targets, r => Assert.Equal(BytesPerDirection, r.Received));
        Assert.Equal(results.Select(r => r.SentHash).Order(), targets.Select(r => r.ReceivedHash).Order());
        Assert.Equal(targets.Select(r => r.SentHash).Order(), results.Select(r => r.ReceivedHash).Order());
    }

    private static async Task<ExchangeResult> RunClientAsync(int port, int seed, CancellationToken cancellationToken)
    {
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync("127.0.0.1", port, cancellationToken);
        return await Exchange.RunAsync(socket, BytesPerDirection, seed, cancellationToken);
    }
}
