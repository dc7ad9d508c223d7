using System.Diagnostics;
using System.Net.Sockets;

namespace AwsTunnel.Bench;

/// <summary>
/// B3: many simultaneous connections on one service of one V3 tunnel, each echoing a block of
/// the pattern checked byte for byte; aggregate throughput and the proxies' peak RSS (VmHWM).
/// </summary>
internal static class B3FanOut
{
    private const string Bench = "B3";
    private const int IssueConnections = 1000;
    private const int EngineDefaultLimit = 128;

    public static async Task RunAsync(BenchContext ctx)
    {
        var o = ctx.Options;
        var echo = ctx.Server.EndPoint;
        string settings = Path.Combine(o.WorkDir, "b3-settings.json");
        await File.WriteAllTextAsync(settings, "{\"tunneling\":{\"proxy\":{\"tcp\":{\"max_active_connections\":\"" + Math.Max(IssueConnections, o.B3Connections) + "\"}}}}");

        var deployment = await Deployment.StartAsync(ctx, "b3-ws", tls: false, echo.Port, settings);
        try
        {
            int connections = o.B3Connections > 0
                ? o.B3Connections
                : deployment.UsedSettings ? IssueConnections : EngineDefaultLimit;
            if (!deployment.UsedSettings)
            {
                ctx.Results.Note(connections <= EngineDefaultLimit
                    ? $"B3 ran {connections} connections, not 1,000: the CLI does not accept --settings-json yet, and the engine's default " +
                      $"tcp.max_active_connections is {EngineDefaultLimit} per service; 1,000 connections need that setting raised."
                    : $"B3 ran {connections} connections without --settings-json (not accepted by the CLI yet): the proxies refuse every " +
                      $"connection beyond tcp.max_active_connections = {EngineDefaultLimit} per service.");
            }

            Log.Line($"B3: {connections} simultaneous connections x {Size.Format(o.B3Bytes)} echoed, {o.Reps} repetition(s), settings-json {(deployment.UsedSettings ? "used" : "not supported")}");
            var rates = new List<double>();
            int worstCompleted = int.MaxValue;
            string firstFailure = string.Empty;
            for (int rep = 1; rep <= o.Reps; rep++)
            {
                var (completed, mbps, failure) = await RunOnceAsync(ctx, deployment, connections, o.B3Bytes, rep);
                rates.Add(mbps);
                if (completed < worstCompleted)
                {
                    worstCompleted = completed;
                }

                if (firstFailure.Length == 0 && failure is not null)
                {
                    firstFailure = failure;
                }

                Log.Line($"B3 rep {rep}: {completed}/{connections} intact, {mbps:0} MB/s aggregate (each way)" + (failure is null ? "" : $"; first failure: {failure}"));
                deployment.EnsureRunning();
                // Let the proxies finish closing before the next round.
                await Task.Delay(1000);
            }

            double srcPeak = deployment.Source.PeakRssMiB();
            double dstPeak = deployment.Destination.PeakRssMiB();
            double svcPeak = deployment.Service.PeakRssMiB();
            var r = ctx.Results;
            r.Check(Bench, $"connections complete intact ({connections} x {Size.Format(o.B3Bytes)}, worst of {o.Reps})",
                $"{worstCompleted}/{connections}", "all of 1,000", worstCompleted == connections && connections >= IssueConnections,
                connections < IssueConnections
                    ? (worstCompleted == connections ? $"all {connections} did; 1,000 not run (limit {EngineDefaultLimit})" : $"{connections - worstCompleted} failed: {firstFailure}")
                    : $"{connections - worstCompleted} failed: {firstFailure}");
            r.Info(Bench, "aggregate echo throughput (each way)", $"{Stats.Median(rates):0} MB/s");
            r.Check(Bench, "peak RSS, source proxy", $"{srcPeak:0} MiB", "< 150 MiB", srcPeak < 150, $"+{srcPeak - 150:0} MiB");
            r.Check(Bench, "peak RSS, destination proxy", $"{dstPeak:0} MiB", "< 150 MiB", dstPeak < 150, $"+{dstPeak - 150:0} MiB");
            r.Info(Bench, "peak RSS, local service", $"{svcPeak:0} MiB");
        }
        finally
        {
            deployment.Stop();
        }
    }

    private static async Task<(int Completed, double MBps, string? Failure)> RunOnceAsync(
        BenchContext ctx, Deployment deployment, int connections, long bytes, int rep)
    {
        var endPoint = Net.Loopback(deployment.SourcePort);
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60 + connections * bytes / 5e6));
        var sockets = new Socket?[connections];
        var failures = new string?[connections];
        // Connections of the previous round may still be closing on the far side.
        for (int i = 0; i < 200 && ctx.Server.ActiveEcho > 0; i++)
        {
            await Task.Delay(50);
        }

        int baseline = ctx.Server.ActiveEcho;

        // Open every connection first, so they are all simultaneous when the data starts.
        await Parallel.ForEachAsync(Enumerable.Range(0, connections),
            new ParallelOptions { MaxDegreeOfParallelism = 32, CancellationToken = deadline.Token },
            async (i, token) =>
            {
                try
                {
                    sockets[i] = await Clients.OpenEchoAsync(endPoint, token);
                }
                catch (Exception ex) when (ex is SocketException or OperationCanceledException)
                {
                    failures[i] = "connect failed: " + ex.Message;
                }
            });

        // Wait until the destination has connected them all to the echo server (or no progress for 5 s).
        var stall = Stopwatch.StartNew();
        int lastSeen = -1;
        while (ctx.Server.ActiveEcho - baseline < connections && stall.Elapsed < TimeSpan.FromSeconds(5) && !deadline.IsCancellationRequested)
        {
            int seen = ctx.Server.ActiveEcho - baseline;
            if (seen != lastSeen)
            {
                lastSeen = seen;
                stall.Restart();
            }

            await Task.Delay(20);
        }

        int open = ctx.Server.ActiveEcho - baseline;
        if (open < connections)
        {
            Log.Line($"B3 rep {rep}: only {open} of {connections} connections reached the echo server before the data started");
        }

        var clock = Stopwatch.StartNew();
        var tasks = new Task<string?>[connections];
        for (int i = 0; i < connections; i++)
        {
            var socket = sockets[i];
            long offset = (long)i * 104729 + rep;
            tasks[i] = socket is null
                ? Task.FromResult(failures[i])
                : Task.Run(() => Clients.EchoTransferAsync(socket, bytes, offset, deadline.Token));
        }

        var results = await Task.WhenAll(tasks);
        clock.Stop();
        foreach (var socket in sockets)
        {
            socket?.Dispose();
        }

        int completed = results.Count(x => x is null);
        return (completed, completed * bytes / clock.Elapsed.TotalSeconds / 1e6, results.FirstOrDefault(x => x is not null));
    }
}
