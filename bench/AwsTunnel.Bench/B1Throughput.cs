namespace AwsTunnel.Bench;

/// <summary>
/// B1: N bytes through one connection, ws and wss, against raw loopback TCP between the same
/// sender and sink in the same run. CPU per GiB of each proxy from /proc/PID/stat.
/// </summary>
internal static class B1Throughput
{
    private const string Bench = "B1";

    public static async Task RunAsync(BenchContext ctx)
    {
        var o = ctx.Options;
        long bytes = o.B1Bytes;
        double gib = bytes / (double)(1L << 30);
        var timeout = TimeSpan.FromSeconds(60 + bytes / 10e6);
        var sink = ctx.Server.EndPoint;
        Log.Line($"B1: {Size.Format(bytes)} per transfer, {o.Reps} repetition(s), ws and wss");

        var ws = await Deployment.StartAsync(ctx, "b1-ws", tls: false, sink.Port);
        var wss = await Deployment.StartAsync(ctx, "b1-wss", tls: true, sink.Port);
        try
        {
            // One short transfer each to get every process past JIT and connection set-up.
            long warm = Math.Min(bytes, 16L << 20);
            await Clients.SinkTransferAsync(sink, warm, 0, Cancel(timeout));
            await Clients.SinkTransferAsync(Net.Loopback(ws.SourcePort), warm, 0, Cancel(timeout));
            await Clients.SinkTransferAsync(Net.Loopback(wss.SourcePort), warm, 0, Cancel(timeout));

            var raw = new List<double>();
            var runs = new Dictionary<string, List<Run>> { ["ws"] = new(), ["wss"] = new() };
            for (int rep = 1; rep <= o.Reps; rep++)
            {
                var rawTime = await Clients.SinkTransferAsync(sink, bytes, rep, Cancel(timeout));
                raw.Add(bytes / rawTime.TotalSeconds / 1e6);
                Log.Line($"B1 rep {rep}: raw loopback {raw[^1]:0} MB/s");
                foreach (var (label, deployment) in new[] { ("ws", ws), ("wss", wss) })
                {
                    deployment.EnsureRunning();
                    var before = deployment.Processes.Select(p => p.CpuSeconds()).ToArray();
                    TimeSpan time;
                    try
                    {
                        time = await Clients.SinkTransferAsync(Net.Loopback(deployment.SourcePort), bytes, rep * 7919, Cancel(timeout));
                    }
                    catch (Exception ex) when (ex is not BenchException)
                    {
                        deployment.EnsureRunning();
                        throw new BenchException($"{label} transfer failed: {ex.Message}", ex);
                    }

                    var after = deployment.Processes.Select(p => p.CpuSeconds()).ToArray();
                    var run = new Run(
                        bytes / time.TotalSeconds / 1e6,
                        (after[0] - before[0]) / gib,
                        (after[1] - before[1]) / gib,
                        (after[2] - before[2]) / gib,
                        RawMBps: raw[^1]);
                    runs[label].Add(run);
                    Log.Line($"B1 rep {rep}: {label} {run.MBps:0} MB/s ({run.MBps / raw[^1] * 100:0.0}% of raw), CPU s/GiB source {run.SourceCpu:0.00}, destination {run.DestinationCpu:0.00}, service {run.ServiceCpu:0.00}");
                }
            }

            var r = ctx.Results;
            double rawMedian = Stats.Median(raw);
            r.Info(Bench, "raw loopback TCP (same sender and sink)", $"{rawMedian:0} MB/s");
            foreach (var label in new[] { "ws", "wss" })
            {
                var list = runs[label];
                double mbps = Stats.Median(list.Select(x => x.MBps));
                double ratio = Stats.Median(list.Select(x => x.MBps / x.RawMBps)) * 100;
                double src = Stats.Median(list.Select(x => x.SourceCpu));
                double dst = Stats.Median(list.Select(x => x.DestinationCpu));
                double svc = Stats.Median(list.Select(x => x.ServiceCpu));
                r.Info(Bench, $"{label} throughput, 1 connection, {Size.Format(bytes)}", $"{mbps:0} MB/s");
                if (label == "ws")
                {
                    r.Check(Bench, "ws / raw loopback", $"{ratio:0.0}%", ">= 40%", ratio >= 40, $"{40 - ratio:0.0} points short, {40 / ratio:0.0}x too slow");
                }
                else
                {
                    r.Info(Bench, "wss / raw loopback", $"{ratio:0.0}%");
                }

                r.Check(Bench, $"{label} CPU, source proxy", $"{src:0.00} s/GiB", "<= 1.0 s/GiB", src <= 1.0, $"{src / 1.0:0.0}x");
                r.Check(Bench, $"{label} CPU, destination proxy", $"{dst:0.00} s/GiB", "<= 1.0 s/GiB", dst <= 1.0, $"{dst / 1.0:0.0}x");
                r.Info(Bench, $"{label} CPU, both proxies (sum) / service", $"{src + dst:0.00} / {svc:0.00} s/GiB");
            }
        }
        finally
        {
            ws.Stop();
            wss.Stop();
        }
    }

    private static CancellationToken Cancel(TimeSpan timeout) => new CancellationTokenSource(timeout).Token;

    private sealed record Run(double MBps, double SourceCpu, double DestinationCpu, double ServiceCpu, double RawMBps);
}
