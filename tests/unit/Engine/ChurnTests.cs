using System.Diagnostics;
using AwsTunnel.Tests.Support;

namespace AwsTunnel.Tests.Engine;

/// <summary>Process-wide measurements (descriptors, threads, heap) need the process to themselves.</summary>
[CollectionDefinition(nameof(ProcessWideMeasurements), DisableParallelization = true)]
public sealed class ProcessWideMeasurements;

/// <summary>Many short connections through one tunnel leave nothing behind.</summary>
[Collection(nameof(ProcessWideMeasurements))]
public class ChurnTests
{
    private const int Cycles = 2000;

    [Fact]
    public async Task Two_thousand_connect_transfer_close_cycles_leave_descriptors_threads_and_memory_where_they_were()
    {
        await using var echo = new EchoServer();
        await using var harness = await TunnelHarness.StartAsync(new[] { "SSH1" });
        var destination = await harness.StartDestinationAsync($"SSH1=127.0.0.1:{echo.Port}");
        var source = await harness.StartSourceAsync("SSH1=0");
        int port = source.Ports["SSH1"];
        await CycleAsync(port, 50); // warm up pools, JIT and thread pool before measuring
        await Eventually.TrueAsync(() => source.Connections().Count == 0 && destination.Connections().Count == 0, "warm-up connections to close");
        var before = Measure();

        await CycleAsync(port, Cycles);

        await Eventually.TrueAsync(() => source.Connections().Count == 0 && destination.Connections().Count == 0, "every connection to close", 20000);
        await Eventually.TrueAsync(() => Measure().Descriptors <= before.Descriptors + 20, "descriptors to be released", 20000);
        var after = Measure();
        Assert.Equal(Cycles + 50, echo.Accepted);
        Assert.InRange(after.Descriptors, 0, before.Descriptors + 20);
        // The thread pool may grow under load and keeps idle threads for a while; a thread per
        // connection would add thousands, so a small constant bound tells the two apart.
        Assert.InRange(after.Threads, 0, before.Threads + 32);
        Assert.InRange(after.ManagedBytes, 0, before.ManagedBytes + 8 * 1024 * 1024);
    }

    private static async Task CycleAsync(int port, int count)
    {
        var payload = new string('x', 1000);
        for (int i = 0; i < count; i++)
        {
            using var socket = await TcpProbe.ConnectAsync(port);
            Assert.Equal(payload, await TcpProbe.EchoAsync(socket, payload));
        }
    }

    private static (int Descriptors, int Threads, long ManagedBytes) Measure()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        int descriptors = OperatingSystem.IsLinux() ? Directory.GetFiles("/proc/self/fd").Length : 0;
        return (descriptors, Process.GetCurrentProcess().Threads.Count, GC.GetTotalMemory(forceFullCollection: true));
    }
}
