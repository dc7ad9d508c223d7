namespace AwsTunnel.Bench;

/// <summary>
/// B2: sequential 64-byte round trips through the tunnel (ws) and directly to the same echo
/// server; the added latency is the tunnel's percentile minus the direct one.
/// </summary>
internal static class B2Latency
{
    private const string Bench = "B2";
    private const int Warmup = 1000;
    private static readonly TimeSpan TripTimeout = TimeSpan.FromSeconds(10);

    public static async Task RunAsync(BenchContext ctx)
    {
        var o = ctx.Options;
        var echo = ctx.Server.EndPoint;
        var limit = TimeSpan.FromSeconds(Math.Max(30, o.B2Trips / 150.0));
        Log.Line($"B2: {o.B2Trips} round trips of {LatencyProbe.MessageSize} bytes per run, {o.Reps} repetition(s)");
        var deployment = await Deployment.StartAsync(ctx, "b2-ws", tls: false, echo.Port);
        try
        {
            using var direct = LatencyProbe.Open(echo, TripTimeout);
            using var tunnel = LatencyProbe.Open(Net.Loopback(deployment.SourcePort), TripTimeout);
            await LatencyProbe.MeasurePairedAsync(direct, tunnel, Warmup, limit);

            var percentiles = new[] { 50.0, 99.0, 99.9 };
            var added = percentiles.ToDictionary(p => p, _ => new List<double>());
            var tunnelAbs = percentiles.ToDictionary(p => p, _ => new List<double>());
            var directAbs = percentiles.ToDictionary(p => p, _ => new List<double>());
            for (int rep = 1; rep <= o.Reps; rep++)
            {
                // Direct and tunnel trips alternate, so both see the same noise of a shared machine.
                var (d, t) = await LatencyProbe.MeasurePairedAsync(direct, tunnel, o.B2Trips, limit);
                deployment.EnsureRunning();
                if (t.Length < o.B2Trips)
                {
                    Log.Line($"B2 rep {rep}: only {t.Length} tunnel round trips fit in {limit.TotalSeconds:0} s");
                }

                foreach (var p in percentiles)
                {
                    double dp = Stats.Percentile(d, p), tp = Stats.Percentile(t, p);
                    directAbs[p].Add(dp);
                    tunnelAbs[p].Add(tp);
                    added[p].Add(tp - dp);
                }

                Log.Line($"B2 rep {rep}: direct p50/p99/p99.9 {directAbs[50][^1]:0}/{directAbs[99][^1]:0}/{directAbs[99.9][^1]:0} us, " +
                         $"tunnel {tunnelAbs[50][^1]:0}/{tunnelAbs[99][^1]:0}/{tunnelAbs[99.9][^1]:0} us");
            }

            var r = ctx.Results;
            double a50 = Stats.Median(added[50]), a99 = Stats.Median(added[99]), a999 = Stats.Median(added[99.9]);
            r.Info(Bench, "direct loopback round trip p50 / p99 / p99.9", $"{Stats.Median(directAbs[50]):0} / {Stats.Median(directAbs[99]):0} / {Stats.Median(directAbs[99.9]):0} us");
            r.Info(Bench, "ws tunnel round trip p50 / p99 / p99.9", $"{Stats.Median(tunnelAbs[50]):0} / {Stats.Median(tunnelAbs[99]):0} / {Stats.Median(tunnelAbs[99.9]):0} us");
            r.Info(Bench, "added p50 (ws)", $"{a50:0} us");
            r.Check(Bench, "added p99 (ws)", $"{a99:0} us", "<= 200 us", a99 <= 200, $"+{a99 - 200:0} us, {a99 / 200:0.0}x");
            r.Info(Bench, "added p99.9 (ws)", $"{a999:0} us");
        }
        finally
        {
            deployment.Stop();
        }
    }
}
