namespace AwsTunnel.Bench;

/// <summary>
/// B5: on one tunnel (ws), one connection pushes bulk data to a sink as fast as it can while a
/// second connection of the same service does 64-byte round trips to the echo server. Compares
/// the interactive percentiles with the bulk running and without.
/// </summary>
internal static class B5Fairness
{
    private const string Bench = "B5";
    private const int IdleTrips = 2000;
    private const int MaxLoadTrips = 100_000;
    private static readonly TimeSpan TripTimeout = TimeSpan.FromSeconds(30);

    public static async Task RunAsync(BenchContext ctx)
    {
        var o = ctx.Options;
        var server = ctx.Server.EndPoint;
        var window = TimeSpan.FromSeconds(o.B5Seconds);
        Log.Line($"B5: interactive 64-byte round trips idle, then for {window.TotalSeconds:0} s next to a bulk connection, {o.Reps} repetition(s)");
        var deployment = await Deployment.StartAsync(ctx, "b5-ws", tls: false, server.Port);
        try
        {
            var endPoint = Net.Loopback(deployment.SourcePort);
            using var probe = LatencyProbe.Open(endPoint, TripTimeout);
            await probe.MeasureAsync(500, TimeSpan.FromSeconds(10));
            var idle50 = new List<double>();
            var idle99 = new List<double>();
            var load50 = new List<double>();
            var load99 = new List<double>();
            var loadMax = new List<double>();
            var bulkRates = new List<double>();
            int loadTrips = 0;
            for (int rep = 1; rep <= o.Reps; rep++)
            {
                var idle = await probe.MeasureAsync(IdleTrips, TimeSpan.FromSeconds(20));
                idle50.Add(Stats.Percentile(idle, 50));
                idle99.Add(Stats.Percentile(idle, 99));

                using var stopBulk = new CancellationTokenSource();
                long sinkBefore = ctx.Server.SinkBytes;
                var bulk = Task.Run(() => Clients.BulkAsync(endPoint, stopBulk.Token));
                // Let the bulk connection fill every queue on the way before measuring.
                await Task.Delay(TimeSpan.FromSeconds(1.5));
                long sinkStart = ctx.Server.SinkBytes;
                var started = DateTime.UtcNow;
                double[] load;
                try
                {
                    load = await probe.MeasureAsync(MaxLoadTrips, window);
                }
                finally
                {
                    double seconds = (DateTime.UtcNow - started).TotalSeconds;
                    bulkRates.Add((ctx.Server.SinkBytes - sinkStart) / seconds / 1e6);
                    stopBulk.Cancel();
                }

                long bulkSent = await bulk;
                if (ctx.Server.SinkBytes == sinkBefore || bulkSent == 0)
                {
                    throw new BenchException("The bulk connection moved no data; the load phase measured nothing.");
                }

                load50.Add(Stats.Percentile(load, 50));
                load99.Add(Stats.Percentile(load, 99));
                loadMax.Add(load.Length == 0 ? double.NaN : load.Max());
                loadTrips += load.Length;
                Log.Line($"B5 rep {rep}: idle p50/p99 {idle50[^1]:0}/{idle99[^1]:0} us; under load p50/p99/max {load50[^1]:0}/{load99[^1]:0}/{loadMax[^1]:0} us " +
                         $"over {load.Length} trips; bulk {bulkRates[^1]:0} MB/s");
                deployment.EnsureRunning();
                // Let the queued bulk data drain before the next idle measurement.
                await Task.Delay(TimeSpan.FromSeconds(2));
            }

            var r = ctx.Results;
            double l99 = Stats.Median(load99);
            r.Info(Bench, "interactive p50 / p99, idle", $"{Stats.Median(idle50) / 1000:0.00} / {Stats.Median(idle99) / 1000:0.00} ms");
            r.Info(Bench, "interactive p50, under bulk load", $"{Stats.Median(load50) / 1000:0.00} ms",
                $"{loadTrips} trips in {o.Reps} x {window.TotalSeconds:0} s; max {Stats.Median(loadMax) / 1000:0} ms");
            r.Check(Bench, "interactive p99, under bulk load", $"{l99 / 1000:0.00} ms", "<= 10 ms", l99 <= 10_000, $"{l99 / 10_000:0.0}x");
            r.Info(Bench, "bulk throughput meanwhile", $"{Stats.Median(bulkRates):0} MB/s");
        }
        finally
        {
            deployment.Stop();
        }
    }
}
