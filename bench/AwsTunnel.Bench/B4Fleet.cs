using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text.RegularExpressions;

namespace AwsTunnel.Bench;

/// <summary>
/// B4: many sessions in one process through the engine API (a fleet script's shape). The local
/// service runs in its own `awstunnel service` process with one tunnel per pair. Layout "split"
/// (default): every source session in one measured worker process, every destination session in a
/// second worker. Layout "single": both ends of every tunnel in one worker. The bench process
/// holds the echo server and the clients, so the workers hold nothing but sessions.
/// </summary>
internal static partial class B4Fleet
{
    private const string Bench = "B4";
    private const int FirstStage = 10;
    private static readonly TimeSpan ReplyTimeout = TimeSpan.FromSeconds(120);

    public static async Task RunAsync(BenchContext ctx)
    {
        var o = ctx.Options;
        int tunnels = o.B4Tunnels;
        bool single = o.B4Layout == "single";
        int first = Math.Min(FirstStage, tunnels / 2);
        Log.Line($"B4: {tunnels} tunnels, layout {o.B4Layout}: " + (single
            ? $"{2 * tunnels} sessions (both ends) in one worker process"
            : $"{tunnels} source sessions in the measured worker, {tunnels} destinations in a helper worker"));

        var (service, endpoint, _, tokens) = await Deployment.StartServiceAsync(ctx, "b4", tls: false, tunnels);
        var measured = StartWorker(ctx, single ? "b4-sessions" : "b4-sources");
        var helper = single ? null : StartWorker(ctx, "b4-destinations");
        try
        {
            int echoPort = ctx.Server.EndPoint.Port;
            var m0 = await MeasureAsync(measured);
            double startSeconds;
            Measurement mFirst, mAll;
            if (single)
            {
                // Stage 1: the first tunnels, both ends; stage 2: the rest. Destinations are added first in each stage.
                var s1 = await StartStageAsync(measured, tokens.Take(first), endpoint, echoPort, dst: true, src: true);
                mFirst = await MeasureAsync(measured);
                var s2 = await StartStageAsync(measured, tokens.Skip(first), endpoint, echoPort, dst: true, src: true);
                mAll = await MeasureAsync(measured);
                startSeconds = s1 + s2;
            }
            else
            {
                var h0 = await MeasureAsync(helper!);
                double dstSeconds = await StartStageAsync(helper!, tokens, endpoint, echoPort, dst: true, src: false);
                var h1 = await MeasureAsync(helper!);
                Log.Line($"B4: {tunnels} destinations started in {dstSeconds:0.00} s");
                ctx.Results.Info(Bench, $"helper: {tunnels} destination sessions, idle, per session (heap / RSS)",
                    $"{PerSession(h0.Heap, h1.Heap, tunnels):0.0} / {PerSession(h0.Rss, h1.Rss, tunnels):0.0} KiB",
                    $"started in {dstSeconds:0.00} s; threads {h0.Threads} -> {h1.Threads}");
                var s1 = await StartStageAsync(measured, tokens.Take(first), endpoint, echoPort, dst: false, src: true);
                mFirst = await MeasureAsync(measured);
                var s2 = await StartStageAsync(measured, tokens.Skip(first), endpoint, echoPort, dst: false, src: true);
                mAll = await MeasureAsync(measured);
                startSeconds = s1 + s2;
            }

            Log.Line($"B4: measured worker before/{mFirst.Sessions}/{mAll.Sessions} sessions: heap {Mib(m0.Heap)}/{Mib(mFirst.Heap)}/{Mib(mAll.Heap)} MiB, " +
                     $"RSS {Mib(m0.Rss)}/{Mib(mFirst.Rss)}/{Mib(mAll.Rss)} MiB, threads {m0.Threads}/{mFirst.Threads}/{mAll.Threads}");

            // Each session moves the payload (echoed), all at once, from the bench process.
            measured.WriteLine("ports");
            var portsLine = await measured.WaitForLineAsync(PortsReply(), ReplyTimeout);
            var ports = portsLine.Groups[1].Value.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(p => int.Parse(p, CultureInfo.InvariantCulture)).ToArray();
            var (completed, moveSeconds, failure) = await MoveAsync(ports, o.B4Bytes);
            Log.Line($"B4: {completed}/{ports.Length} sessions echoed {Size.Format(o.B4Bytes)} intact in {moveSeconds:0.00} s" + (failure is null ? "" : $"; first failure: {failure}"));
            var mAfter = await MeasureAsync(measured);

            int added = mAll.Sessions - mFirst.Sessions;
            double heapPer = PerSession(mFirst.Heap, mAll.Heap, added);
            double rssPer = PerSession(mFirst.Rss, mAll.Rss, added);
            long threadGrowth = mAll.Threads - mFirst.Threads;
            string who = single ? "sessions (both ends)" : "source sessions";
            var r = ctx.Results;
            r.Info(Bench, "layout", single
                ? $"{mAll.Sessions} sessions ({tunnels} tunnels x source + destination) in one worker process"
                : $"{mAll.Sessions} source sessions in the measured process; {tunnels} destinations in a helper process");
            r.Check(Bench, $"time to start all {mAll.Sessions} {who}", $"{startSeconds:0.00} s", "< 10 s", startSeconds < 10, $"+{startSeconds - 10:0.0} s");
            r.Check(Bench, "managed heap per idle session", $"{heapPer:0.0} KiB", "< 100 KiB", heapPer < 100, $"{heapPer / 100:0.0}x");
            r.Check(Bench, "RSS per idle session", $"{rssPer:0.0} KiB", "< 100 KiB", rssPer < 100, $"{rssPer / 100:0.0}x");
            r.Check(Bench, $"threads at 0 / {mFirst.Sessions} / {mAll.Sessions} idle / after moving",
                $"{m0.Threads} / {mFirst.Threads} / {mAll.Threads} / {mAfter.Threads}",
                $"independent of sessions (<= 8 more at {mAll.Sessions} than at {mFirst.Sessions})", threadGrowth <= 8,
                $"+{threadGrowth} threads for {added} sessions");
            r.Info(Bench, "measured process idle: heap / RSS", $"{Mib(mAll.Heap)} / {Mib(mAll.Rss)} MiB",
                $"with {mAll.Sessions} sessions; {Mib(m0.Heap)} / {Mib(m0.Rss)} MiB with none");
            r.Check(Bench, $"each session moves {Size.Format(o.B4Bytes)} (echoed, all at once)", $"{completed}/{ports.Length} intact in {moveSeconds:0.00} s",
                "all intact", completed == ports.Length, $"{ports.Length - completed} failed: {failure}");
            r.Info(Bench, "measured process after moving: heap / RSS", $"{Mib(mAfter.Heap)} / {Mib(mAfter.Rss)} MiB");
        }
        finally
        {
            await StopWorkerAsync(measured);
            if (helper is not null)
            {
                await StopWorkerAsync(helper);
            }

            service.Kill();
        }
    }

    private static Child StartWorker(BenchContext ctx, string name)
    {
        string self = typeof(B4Fleet).Assembly.Location;
        return Child.Start(ctx.Children, name, ctx.Options.Dotnet, new[] { self, "fleet-worker" }, redirectInput: true);
    }

    private static async Task StopWorkerAsync(Child worker)
    {
        try
        {
            if (!worker.HasExited)
            {
                worker.WriteLine("stop");
                await worker.WaitForExitAsync(TimeSpan.FromSeconds(40));
            }
        }
        catch (Exception ex) when (ex is IOException or InvalidOperationException)
        {
        }
        finally
        {
            worker.Kill();
        }
    }

    /// <summary>Adds the sessions of <paramref name="tunnels"/> and starts them together; returns the seconds the start took.</summary>
    private static async Task<double> StartStageAsync(
        Child worker, IEnumerable<Deployment.TunnelTokens> tunnels, string endpoint, int echoPort, bool dst, bool src)
    {
        var list = tunnels.ToList();
        double ms = 0;
        if (dst)
        {
            foreach (var t in list)
            {
                worker.WriteLine($"add dst {endpoint} {t.Destination} {echoPort}");
            }

            if (src)
            {
                // Single layout: destinations first, in their own start, so sources find them connected.
                ms += (await StartAsync(worker, list.Count)).Ms;
            }
        }

        if (src)
        {
            foreach (var t in list)
            {
                worker.WriteLine($"add src {endpoint} {t.Source}");
            }
        }

        ms += (await StartAsync(worker, list.Count)).Ms;
        return ms / 1000.0;
    }

    private static async Task<(double Ms, int Ok)> StartAsync(Child worker, int expected)
    {
        worker.WriteLine("start");
        var m = await worker.WaitForLineAsync(StartedReply(), ReplyTimeout);
        double ms = double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
        int ok = int.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture);
        int failed = int.Parse(m.Groups[3].Value, CultureInfo.InvariantCulture);
        if (failed > 0 || ok != expected)
        {
            throw new BenchException($"{worker.Name}: {failed} of {expected} sessions failed to start: {m.Groups[4].Value.Replace('_', ' ')}");
        }

        return (ms, ok);
    }

    private sealed record Measurement(long Heap, long Rss, long Threads, int Sessions);

    private static async Task<Measurement> MeasureAsync(Child worker)
    {
        worker.WriteLine("measure");
        var m = await worker.WaitForLineAsync(MeasureReply(), ReplyTimeout);
        long L(int g) => long.Parse(m.Groups[g].Value, CultureInfo.InvariantCulture);
        return new Measurement(L(1), L(2), L(3), (int)L(4));
    }

    private static async Task<(int Completed, double Seconds, string? Failure)> MoveAsync(int[] ports, long bytes)
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60 + ports.Length * bytes / 2e6));
        var clock = Stopwatch.StartNew();
        var results = await Task.WhenAll(ports.Select((port, i) => Task.Run(async () =>
        {
            try
            {
                using var socket = await Clients.OpenEchoAsync(Net.Loopback(port), deadline.Token);
                return await Clients.EchoTransferAsync(socket, bytes, (long)i * 7919, deadline.Token);
            }
            catch (Exception ex) when (ex is SocketException or OperationCanceledException)
            {
                return "connect failed: " + ex.Message;
            }
        })));
        clock.Stop();
        return (results.Count(x => x is null), clock.Elapsed.TotalSeconds, results.FirstOrDefault(x => x is not null));
    }

    private static double PerSession(long before, long after, int sessions) => sessions <= 0 ? double.NaN : (after - before) / 1024.0 / sessions;

    private static string Mib(long bytes) => (bytes / 1048576.0).ToString("0.0", CultureInfo.InvariantCulture);

    [GeneratedRegex(@"^@started ms=(\d+) ok=(\d+) failed=(\d+) error=(\S+)")]
    private static partial Regex StartedReply();

    [GeneratedRegex(@"^@measure heap=(\d+) rss=(\d+) threads=(\d+) sessions=(\d+)")]
    private static partial Regex MeasureReply();

    [GeneratedRegex(@"^@ports ?(.*)$")]
    private static partial Regex PortsReply();
}
