using System.Net;
using System.Net.Sockets;

namespace AwsTunnel.Bench;

/// <summary>
/// B8 (issue 11): N local clients (1, 20, 100) connect to the source and never read, while the
/// echo target sends back everything they write; meanwhile a second kind of connection does
/// 64-byte round trips. Reports the longest interactive round trip (the longest stall) and the
/// p99 while the non-readers' data piles up and the proxy deals with them (the full-queue
/// policy resets them), against the 100 ms target. The interactive connection's echo runs on a
/// thread of its own in the target (<see cref="TestServer.InteractiveEcho"/>): the target shares
/// this process with the hundred writers and their echoes, and a round trip must not wait in
/// its thread pool behind them (before, that wait alone made stalls of 100-400 ms on a loaded
/// machine, seen in packet timestamps between the destination and the target).
/// </summary>
internal static class B8NonReaders
{
    private const string Bench = "B8";
    private const int MaxTrips = 1_000_000;
    private static readonly int[] Counts = { 1, 20, 100 };
    private static readonly TimeSpan TripTimeout = TimeSpan.FromSeconds(30);

    public static async Task RunAsync(BenchContext ctx)
    {
        var o = ctx.Options;
        var window = TimeSpan.FromSeconds(o.Quick ? 3 : 10);
        Log.Line($"B8: interactive 64-byte round trips for {window.TotalSeconds:0} s beside 1, 20 and 100 clients that never read, {o.Reps} repetition(s)");
        foreach (int count in Counts)
        {
            var maxima = new List<double>();
            var p99s = new List<double>();
            int trips = 0;
            for (int rep = 1; rep <= o.Reps; rep++)
            {
                var deployment = await Deployment.StartAsync(ctx, $"b8-{count}-{rep}", tls: false, ctx.Server.EndPoint.Port);
                try
                {
                    var endPoint = Net.Loopback(deployment.SourcePort);
                    using var probe = LatencyProbe.Open(endPoint, TripTimeout, TestServer.InteractiveEcho);
                    await probe.MeasureAsync(200, TimeSpan.FromSeconds(10));
                    using var stop = new CancellationTokenSource();
                    var writers = Enumerable.Range(0, count).Select(_ => Task.Run(() => WriteWithoutReadingAsync(endPoint, stop.Token))).ToList();
                    double[] samples;
                    try
                    {
                        samples = await probe.MeasureAsync(MaxTrips, window);
                    }
                    finally
                    {
                        stop.Cancel();
                    }

                    long written = (await Task.WhenAll(writers)).Sum();
                    if (written == 0)
                    {
                        throw new BenchException("The clients that do not read wrote nothing; B8 measured no load.");
                    }

                    maxima.Add(samples.Max());
                    p99s.Add(Stats.Percentile(samples, 99));
                    trips += samples.Length;
                    Log.Line($"B8 {count} non-readers rep {rep}: longest round trip {maxima[^1] / 1000:0.0} ms, p99 {p99s[^1] / 1000:0.00} ms " +
                             $"over {samples.Length} trips; the non-readers wrote {written / 1e6:0} MB");
                    deployment.EnsureRunning();
                }
                finally
                {
                    deployment.Stop();
                }
            }

            double worst = Stats.Median(maxima);
            ctx.Results.Check(Bench, $"longest interactive stall beside {count} non-reading client(s)", $"{worst / 1000:0.0} ms",
                "<= 100 ms", worst <= 100_000, $"{worst / 100_000:0.0}x");
            ctx.Results.Info(Bench, $"interactive p99 beside {count} non-reading client(s)", $"{Stats.Median(p99s) / 1000:0.00} ms",
                $"{trips} trips in {o.Reps} x {window.TotalSeconds:0} s; worst repetition {maxima.Max() / 1000:0.0} ms");
        }
    }

    /// <summary>Connects to the echo target through the tunnel and writes until the proxy resets the connection, never reading.</summary>
    private static async Task<long> WriteWithoutReadingAsync(IPEndPoint endPoint, CancellationToken stop)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveBufferSize = 4096 };
        long written = 0;
        try
        {
            await socket.ConnectAsync(endPoint, stop).ConfigureAwait(false);
            await socket.SendAsync(new[] { TestServer.Echo }, SocketFlags.None, stop).ConfigureAwait(false);
            var chunk = new byte[64 * 1024];
            while (!stop.IsCancellationRequested)
            {
                written += await socket.SendAsync(chunk, SocketFlags.None, stop).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // Reset by the proxy (the policy for a client that does not read), or the window ended.
        }

        return written;
    }
}
