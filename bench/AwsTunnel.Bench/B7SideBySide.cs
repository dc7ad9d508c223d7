using System.Diagnostics;
using AwsTunnel.Engine.Protocol;
using AwsTunnel.Engine.Transport;

namespace AwsTunnel.Bench;

/// <summary>
/// B7: the reference localproxy and awstunnel side by side, both as CLI processes (a destination
/// and a source each), on two tunnels of one `awstunnel service --tls` (wss, the path users run).
/// Each repetition starts everything afresh and gives each pair, in turn: a warm-up echo, a bulk
/// transfer to the sink (CPU per GiB of each side), then round trips alternating between the two
/// pairs trip by trip, so both see the same machine noise. The order of the two pairs alternates
/// from one repetition to the next. The reference comes from LOCALPROXY (or --localproxy);
/// without it B7 is skipped with a note.
/// </summary>
internal static class B7SideBySide
{
    private const string Bench = "B7";
    private const double IdleRssTargetMiB = 30;
    private const double StartSlackMs = 100;
    private static readonly TimeSpan TripTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan IdleSettle = TimeSpan.FromSeconds(1);

    public static async Task RunAsync(BenchContext ctx)
    {
        var o = ctx.Options;
        var r = ctx.Results;
        if (o.LocalProxy is null)
        {
            Log.Line("B7 skipped: LOCALPROXY is not set.");
            r.Info(Bench, "side by side with the reference localproxy", "skipped", "LOCALPROXY is not set");
            r.Note("B7 skipped: set LOCALPROXY (or --localproxy) to a reference localproxy binary built from its public source.");
            return;
        }

        if (!File.Exists(o.LocalProxy))
        {
            throw new BenchException($"LOCALPROXY '{o.LocalProxy}' does not exist: point it at a built reference localproxy binary, or unset it to skip B7.");
        }

        string version = await ProxyPair.ReferenceVersionAsync(ctx);
        var timeout = TimeSpan.FromSeconds(60 + (o.B7WarmupBytes + o.B7Bytes) / 5e6);
        var limit = TimeSpan.FromSeconds(Math.Max(30, o.B7Trips / 100.0));
        var sink = ctx.Server.EndPoint;
        var kinds = new List<ProxyKind> { ProxyKind.Reference, ProxyKind.AwsTunnel };
        if (o.ModuleDir is not null)
        {
            kinds.Add(ProxyKind.Module);
            kinds.Add(ProxyKind.ModuleInline);
        }
        else
        {
            r.Note("B7: the module's in-process figures need --pwsh and --module (run.sh passes them when the PowerShell tool restores).");
        }

        Log.Line($"B7: reference {version} vs {string.Join(" and ", kinds.Skip(1).Select(ProxyPair.LabelOf))} over wss, {Size.Format(o.B7WarmupBytes)} warm-up echo, {Size.Format(o.B7Bytes)} bulk, {o.B7Trips} round trips, {o.Reps} repetition(s)");

        var runs = kinds.ToDictionary(k => k, _ => new List<PairRun>());
        var floors = new List<B7Floor.Cost>();
        for (int rep = 1; rep <= o.Reps; rep++)
        {
            // Which pair goes first rotates from one repetition to the next.
            int shift = (rep - 1) % kinds.Count;
            var order = kinds.Skip(shift).Concat(kinds.Take(shift)).ToArray();
            var (service, endpoint, caDir, tunnels) = await Deployment.StartServiceAsync(ctx, $"b7-{rep}", tls: true, tunnels: kinds.Count);
            var pairs = new Dictionary<ProxyKind, ProxyPair>();
            try
            {
                await HashCertificatesAsync(caDir!);
                for (int i = 0; i < order.Length; i++)
                {
                    pairs[order[i]] = await ProxyPair.StartAsync(ctx, order[i], $"b7-{rep} {ProxyPair.LabelOf(order[i])}", endpoint, caDir!, tunnels[i], sink.Port);
                }

                await Task.Delay(IdleSettle);
                var idleRss = pairs.ToDictionary(p => p.Key, p => (Source: p.Value.Source.RssMiB(), Destination: p.Value.Destination.RssMiB()));

                foreach (var kind in order)
                {
                    using var echo = await Clients.OpenEchoAsync(Net.Loopback(pairs[kind].SourcePort), Cancel(timeout));
                    string? failure = await Clients.EchoTransferAsync(echo, o.B7WarmupBytes, rep * 31 + (int)kind, Cancel(timeout));
                    if (failure is not null)
                    {
                        pairs[kind].EnsureRunning();
                        throw new BenchException($"{ProxyPair.LabelOf(kind)} warm-up echo failed: {failure}");
                    }
                }

                var bulk = new Dictionary<ProxyKind, Bulk>();
                foreach (var kind in order)
                {
                    bulk[kind] = await BulkAsync(pairs[kind], service, o.B7Bytes, rep * 7919 + (int)kind, timeout);
                    Log.Line($"B7 rep {rep}: {pairs[kind].Label} bulk {bulk[kind]}");
                }

                // A module's pwsh compiles the data path with the JIT during its first transfer
                // (tiered compilation, once per process); a second one shows what every later GiB costs.
                var warm = new Dictionary<ProxyKind, Bulk>();
                foreach (var kind in order.Where(k => k is ProxyKind.Module or ProxyKind.ModuleInline))
                {
                    warm[kind] = await BulkAsync(pairs[kind], service, o.B7Bytes, rep * 7919 + (int)kind + 1, timeout);
                    Log.Line($"B7 rep {rep}: {pairs[kind].Label} second bulk {warm[kind]}");
                }

                // While every pair is idle: what decrypting and relaying the bytes cost here without any proxy.
                floors.Add(B7Floor.Measure(o.B7Bytes));
                Log.Line($"B7 rep {rep}: floor CPU s/GiB: AES-256-GCM decryption {floors[^1].DecryptCpu:0.00}, loopback relay without TLS {floors[^1].RelayCpu:0.00}");

                var probes = order.Select(k => LatencyProbe.Open(Net.Loopback(pairs[k].SourcePort), TripTimeout)).ToList();
                Dictionary<ProxyKind, double[]> trips;
                try
                {
                    var samples = await LatencyProbe.MeasureAlternatingAsync(probes, o.B7Trips, limit);
                    trips = order.Select((k, i) => (k, i)).ToDictionary(x => x.k, x => samples[x.i]);
                }
                finally
                {
                    probes.ForEach(p => p.Dispose());
                }

                foreach (var kind in order)
                {
                    var pair = pairs[kind];
                    pair.EnsureRunning();
                    var second = warm.GetValueOrDefault(kind, new Bulk(double.NaN, double.NaN, double.NaN, double.NaN)); // only the module pairs send twice
                    var run = new PairRun(
                        pair.SourceStartMs,
                        pair.DestinationStartMs,
                        idleRss[kind].Source,
                        idleRss[kind].Destination,
                        pair.Source.PeakRssMiB(),
                        pair.Destination.PeakRssMiB(),
                        bulk[kind].MBps,
                        bulk[kind].Source,
                        bulk[kind].Destination,
                        bulk[kind].Service,
                        second.Source,
                        second.Destination,
                        Stats.Percentile(trips[kind], 50),
                        Stats.Percentile(trips[kind], 99),
                        pair.SourceHostRssMiB,
                        pair.DestinationHostRssMiB);
                    runs[kind].Add(run);
                    Log.Line($"B7 rep {rep}: {pair.Label} round trip p50/p99 {run.RoundTripP50:0}/{run.RoundTripP99:0} us, RSS idle {run.SourceIdleRss:0.0}/{run.DestinationIdleRss:0.0} MiB, peak {run.SourcePeakRss:0.0}/{run.DestinationPeakRss:0.0} MiB (source/destination)");
                }
            }
            finally
            {
                foreach (var pair in pairs.Values)
                {
                    pair.Stop();
                }

                service.Kill();
            }
        }

        Report(ctx, version, runs[ProxyKind.Reference], runs[ProxyKind.AwsTunnel], floors);
        if (runs.TryGetValue(ProxyKind.Module, out var module))
        {
            ReportModule(ctx, runs[ProxyKind.Reference], module);
            ReportModuleInline(ctx, runs[ProxyKind.Reference], runs[ProxyKind.ModuleInline]);
        }
    }

    /// <summary>
    /// The module's rows: the same figures for Start-TunnelSource and Start-TunnelDestination, each in
    /// its own pwsh (JIT, the runtime's defaults), against the reference of the same run. The RSS is
    /// the whole pwsh's; PowerShell itself is most of it, so the session's part is shown too.
    /// </summary>
    private static void ReportModule(BenchContext ctx, List<PairRun> reference, List<PairRun> module)
    {
        var r = ctx.Results;
        string Pair(Func<PairRun, double> pick, string format, string unit) => FormatPair(reference, module, pick, format, unit);
        string Rss(Func<PairRun, double> rss, Func<PairRun, double> host) =>
            $"{Median(module, rss):0.0} MiB, of which the session {Median(module, x => rss(x) - host(x)):0.0} MiB (pwsh with the module imported: {Median(module, host):0.0} MiB)";

        ReportModuleTransfer(r, "module", "module in pwsh, in-process; values are reference / module (module ÷ reference)", reference, module);
        r.Info(Bench, "module: idle RSS, source pwsh", Rss(x => x.SourceIdleRss, x => x.SourceHostRss));
        r.Info(Bench, "module: idle RSS, destination pwsh", Rss(x => x.DestinationIdleRss, x => x.DestinationHostRss));
        r.Info(Bench, "module: Start-TunnelSource call to listening", Pair(x => x.SourceStartMs, "0", "ms"), "reference: process start to listening");
        r.Info(Bench, "module: Start-TunnelDestination call to connected", Pair(x => x.DestinationStartMs, "0", "ms"), "reference: process start to connected");
    }

    /// <summary>
    /// The module again, in pwsh processes started with DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1,
    /// as the CLI runs: what a user who dedicates a PowerShell to tunnels can opt in to.
    /// </summary>
    private static void ReportModuleInline(BenchContext ctx, List<PairRun> reference, List<PairRun> module) =>
        ReportModuleTransfer(ctx.Results, "module, inline completions",
            "pwsh started with DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1; values are reference / module", reference, module);

    /// <summary>A module pair's transfer rows, named "<paramref name="prefix"/>: …": bulk, CPU per side, round trips.</summary>
    private static void ReportModuleTransfer(Results r, string prefix, string note, List<PairRun> reference, List<PairRun> module)
    {
        string Pair(Func<PairRun, double> pick, string format, string unit) => FormatPair(reference, module, pick, format, unit);
        string PairWith(Func<PairRun, double> referencePick, Func<PairRun, double> modulePick) =>
            FormatPair(reference, referencePick, module, modulePick, "0.00", "s/GiB");

        r.Info(Bench, $"{prefix}: bulk over wss, 1 connection", Pair(x => x.BulkMBps, "0", "MB/s"), note);
        r.Info(Bench, $"{prefix}: source CPU per GiB", Pair(x => x.SourceCpu, "0.00", "s/GiB"));
        r.Info(Bench, $"{prefix}: destination CPU per GiB", Pair(x => x.DestinationCpu, "0.00", "s/GiB"));
        r.Info(Bench, $"{prefix}: source CPU per GiB, second transfer", PairWith(x => x.SourceCpu, x => x.WarmSourceCpu), "the same pwsh again, its data path JIT-compiled; against the reference's first");
        r.Info(Bench, $"{prefix}: destination CPU per GiB, second transfer", PairWith(x => x.DestinationCpu, x => x.WarmDestinationCpu));
        r.Info(Bench, $"{prefix}: round trip p50", Pair(x => x.RoundTripP50, "0", "us"));
        r.Info(Bench, $"{prefix}: round trip p99", Pair(x => x.RoundTripP99, "0", "us"));
    }

    private static double Median(List<PairRun> runs, Func<PairRun, double> pick) => Stats.Median(runs.Select(pick));

    /// <summary>"reference / other unit (xratio)", medians of the repetitions.</summary>
    private static string FormatPair(List<PairRun> reference, List<PairRun> other, Func<PairRun, double> pick, string format, string unit) =>
        FormatPair(reference, pick, other, pick, format, unit);

    /// <summary>As above, with a figure of the reference's beside a different one of the other's.</summary>
    private static string FormatPair(List<PairRun> reference, Func<PairRun, double> referencePick, List<PairRun> other, Func<PairRun, double> otherPick, string format, string unit)
    {
        double a = Median(reference, referencePick), b = Median(other, otherPick);
        return $"{Stats.F(a, format)} / {Stats.F(b, format)} {unit} (x{Stats.F(b / a, "0.00")})";
    }

    private static void Report(BenchContext ctx, string version, List<PairRun> reference, List<PairRun> ours, List<B7Floor.Cost> floors)
    {
        var r = ctx.Results;
        var o = ctx.Options;
        string Pair(Func<PairRun, double> pick, string format, string unit) => FormatPair(reference, ours, pick, format, unit);

        r.Info(Bench, "reference localproxy", version, $"{Size.Format(o.B7Bytes)} bulk, {o.B7Trips} round trips; values are reference / awstunnel (awstunnel ÷ reference)");
        r.Info(Bench, "bulk over wss, 1 connection", Pair(x => x.BulkMBps, "0", "MB/s"));

        double refSource = Median(reference, x => x.SourceCpu), ourSource = Median(ours, x => x.SourceCpu);
        double refDestination = Median(reference, x => x.DestinationCpu), ourDestination = Median(ours, x => x.DestinationCpu);
        r.Check(Bench, "source CPU per GiB", Pair(x => x.SourceCpu, "0.00", "s/GiB"), "<= 0.5x reference", ourSource <= 0.5 * refSource, $"{ourSource / refSource / 0.5:0.0}x the target");
        r.Check(Bench, "destination CPU per GiB", Pair(x => x.DestinationCpu, "0.00", "s/GiB"), "<= 0.5x reference", ourDestination <= 0.5 * refDestination, $"{ourDestination / refDestination / 0.5:0.0}x the target");
        double decrypt = Stats.Median(floors.Select(f => f.DecryptCpu)), relay = Stats.Median(floors.Select(f => f.RelayCpu));
        r.Info(Bench, "destination floor: decryption + loopback relay without TLS", $"{decrypt:0.00} + {relay:0.00} = {decrypt + relay:0.00} s/GiB",
            $"no proxy: AES-256-GCM in 16 KiB records, and receives of {ReadAheadStream.ReadAheadBytes / 1024} KiB sent on in {ProtocolLimits.MaxPayloadSize}-byte pieces, one thread each; the target above is {0.5 * refDestination:0.00} s/GiB");
        r.Info(Bench, "destination CPU per GiB above that floor", Pair(x => x.DestinationCpu - (decrypt + relay), "0.00", "s/GiB"), "TLS records, WebSocket, tunnel frames and each proxy's own event loop");
        r.Info(Bench, "both proxies, CPU per GiB", Pair(x => x.SourceCpu + x.DestinationCpu, "0.00", "s/GiB"));
        r.Info(Bench, "service (awstunnel service) CPU per GiB while relaying", Pair(x => x.ServiceCpu, "0.00", "s/GiB"));

        r.Info(Bench, "round trip p50", Pair(x => x.RoundTripP50, "0", "us"));
        double refP99 = Median(reference, x => x.RoundTripP99), ourP99 = Median(ours, x => x.RoundTripP99);
        r.Check(Bench, "round trip p99", Pair(x => x.RoundTripP99, "0", "us"), "<= reference", ourP99 <= refP99, $"+{ourP99 - refP99:0} us");

        double ourIdle = Math.Max(Median(ours, x => x.SourceIdleRss), Median(ours, x => x.DestinationIdleRss));
        r.Info(Bench, "idle RSS, source", Pair(x => x.SourceIdleRss, "0.0", "MiB"));
        r.Info(Bench, "idle RSS, destination", Pair(x => x.DestinationIdleRss, "0.0", "MiB"));
        r.Check(Bench, "awstunnel idle RSS, larger side", $"{ourIdle:0.0} MiB", "<= 30 MiB", ourIdle <= IdleRssTargetMiB, $"{ourIdle / IdleRssTargetMiB:0.0}x");
        r.Info(Bench, "peak RSS under load (VmHWM), source", Pair(x => x.SourcePeakRss, "0.0", "MiB"));
        r.Info(Bench, "peak RSS under load (VmHWM), destination", Pair(x => x.DestinationPeakRss, "0.0", "MiB"));

        double refStart = Median(reference, x => x.SourceStartMs), ourStart = Median(ours, x => x.SourceStartMs);
        r.Check(Bench, "source: process start to listening", Pair(x => x.SourceStartMs, "0", "ms"), "<= reference + 100 ms", ourStart <= refStart + StartSlackMs, $"+{ourStart - refStart - StartSlackMs:0} ms over");
        r.Info(Bench, "destination: process start to connected", Pair(x => x.DestinationStartMs, "0", "ms"));
    }

    /// <summary>
    /// OpenSSL's -c (capath) lookup, which the reference uses, finds certificates by subject-hash
    /// file names; `openssl rehash` makes those links next to the service's cert.pem.
    /// </summary>
    private static async Task HashCertificatesAsync(string caDir)
    {
        var info = new ProcessStartInfo("openssl") { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
        info.ArgumentList.Add("rehash");
        info.ArgumentList.Add(caDir);
        Process process;
        try
        {
            process = Process.Start(info) ?? throw new BenchException("openssl did not start.");
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new BenchException($"B7 needs the openssl command (Debian: apt-get install openssl) to hash the service certificate for the reference's -c: {ex.Message}", ex);
        }

        using (process)
        {
            string error = await process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync();
            if (process.ExitCode != 0)
            {
                throw new BenchException($"openssl rehash {caDir} failed (exit code {process.ExitCode}): {error.Trim()}");
            }
        }
    }

    private static CancellationToken Cancel(TimeSpan timeout) => new CancellationTokenSource(timeout).Token;

    /// <summary>
    /// Sends <paramref name="bytes"/> through <paramref name="pair"/> to the checking sink and
    /// measures the CPU per GiB of its source, its destination and the service meanwhile.
    /// </summary>
    private static async Task<Bulk> BulkAsync(ProxyPair pair, Child service, long bytes, int seed, TimeSpan timeout)
    {
        double gib = bytes / (double)(1L << 30);
        var processes = new[] { pair.Source, pair.Destination, service };
        var before = processes.Select(p => p.CpuSeconds()).ToArray();
        TimeSpan time;
        try
        {
            time = await Clients.SinkTransferAsync(Net.Loopback(pair.SourcePort), bytes, seed, Cancel(timeout));
        }
        catch (Exception ex)
        {
            pair.EnsureRunning();
            throw new BenchException($"{pair.Label} bulk transfer failed: {ex.Message}", ex);
        }

        var after = processes.Select(p => p.CpuSeconds()).ToArray();
        return new Bulk(bytes / time.TotalSeconds / 1e6, (after[0] - before[0]) / gib, (after[1] - before[1]) / gib, (after[2] - before[2]) / gib);
    }

    private readonly record struct Bulk(double MBps, double Source, double Destination, double Service)
    {
        public override string ToString() =>
            $"{MBps:0} MB/s, CPU s/GiB source {Source:0.00}, destination {Destination:0.00}, service {Service:0.00}";
    }

    private sealed record PairRun(
        double SourceStartMs,
        double DestinationStartMs,
        double SourceIdleRss,
        double DestinationIdleRss,
        double SourcePeakRss,
        double DestinationPeakRss,
        double BulkMBps,
        double SourceCpu,
        double DestinationCpu,
        double ServiceCpu,
        double WarmSourceCpu,
        double WarmDestinationCpu,
        double RoundTripP50,
        double RoundTripP99,
        double SourceHostRss,
        double DestinationHostRss);
}
