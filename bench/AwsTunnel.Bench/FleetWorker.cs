using System.Diagnostics;
using System.Globalization;
using AwsTunnel.Engine.Protocol;
using AwsTunnel.Engine.Tunnel;

namespace AwsTunnel.Bench;

/// <summary>
/// `AwsTunnel.Bench fleet-worker`: a process that holds many tunnel sessions through the engine
/// API, as a fleet script would, and measures itself. Commands come on stdin (tokens too, so
/// they never appear on a command line); answers go to stdout, each starting with '@'.
/// <list type="bullet">
/// <item><c>add src ENDPOINT TOKEN</c> / <c>add dst ENDPOINT TOKEN PORT</c>: queue a session.</item>
/// <item><c>start</c>: start every queued session at once; <c>@started ms=… ok=… failed=… error=…</c>.</item>
/// <item><c>ports</c>: <c>@ports P1 P2 …</c>, the source sessions' bound ports in the order added.</item>
/// <item><c>measure</c>: <c>@measure heap=… rss=… threads=… sessions=…</c> (bytes, bytes, count, count).</item>
/// <item><c>stop</c>: stops every session; <c>@stopped</c>, then exits.</item>
/// </list>
/// </summary>
internal static class FleetWorker
{
    public static async Task<int> RunAsync()
    {
        var pending = new List<TunnelOptions>();
        var sessions = new List<TunnelClient>();
        var sources = new List<TunnelClient>();
        string? line;
        while ((line = await Console.In.ReadLineAsync()) is not null)
        {
            var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length == 0)
            {
                continue;
            }

            switch (parts[0])
            {
                case "add":
                    pending.Add(Options(parts));
                    break;
                case "start":
                    await StartAsync(pending, sessions, sources);
                    pending.Clear();
                    break;
                case "ports":
                    Reply("ports " + string.Join(' ', sources.Select(s => s.Ports.TryGetValue(Deployment.ServiceId, out int p) ? p : 0)));
                    break;
                case "measure":
                    await MeasureAsync(sessions.Count);
                    break;
                case "stop":
                    using (var budget = new CancellationTokenSource(TimeSpan.FromSeconds(30)))
                    {
                        await Task.WhenAll(sessions.Select(s => s.DisposeAsync().AsTask())).WaitAsync(budget.Token).ContinueWith(_ => { });
                    }

                    Reply("stopped");
                    return 0;
                default:
                    Reply($"error unknown command {parts[0]}");
                    break;
            }
        }

        return 0;
    }

    private static TunnelOptions Options(string[] parts)
    {
        bool source = parts[1] == "src";
        var endpoint = new Uri(parts[2]);
        string token = parts[3];
        return new TunnelOptions
        {
            Mode = source ? TunnelMode.Source : TunnelMode.Destination,
            ServiceUri = endpoint,
            AccessToken = token,
            Services = new[]
            {
                source
                    ? new ServiceMapping(Deployment.ServiceId, null, 0)
                    : new ServiceMapping(Deployment.ServiceId, "127.0.0.1", int.Parse(parts[4], CultureInfo.InvariantCulture)),
            },
            BindAddress = source ? "127.0.0.1" : null,
            StartTimeout = TimeSpan.FromSeconds(60),
        };
    }

    private static async Task StartAsync(List<TunnelOptions> pending, List<TunnelClient> sessions, List<TunnelClient> sources)
    {
        var clients = pending.Select(o => new TunnelClient(o)).ToList();
        var clock = Stopwatch.StartNew();
        var results = await Task.WhenAll(clients.Select(async c =>
        {
            try
            {
                await c.StartAsync();
                return null;
            }
            catch (Exception ex)
            {
                return ex.Message;
            }
        }));
        clock.Stop();
        sessions.AddRange(clients);
        sources.AddRange(clients.Where(c => c.Mode == TunnelMode.Source));
        int failed = results.Count(r => r is not null);
        string error = results.FirstOrDefault(r => r is not null) is { } e ? System.Text.RegularExpressions.Regex.Replace(e, @"\s", "_") : "-";
        Reply($"started ms={clock.Elapsed.TotalMilliseconds:0} ok={clients.Count - failed} failed={failed} error={error}");
    }

    private static async Task MeasureAsync(int sessions)
    {
        // Let start-up work and timers settle, then collect so only live objects count.
        await Task.Delay(1000);
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        long heap = GC.GetTotalMemory(forceFullCollection: true);
        long rss = Proc.SelfStatus("VmRSS") * 1024;
        long threads = Proc.SelfStatus("Threads");
        Reply($"measure heap={heap} rss={rss} threads={threads} sessions={sessions}");
    }

    private static void Reply(string text)
    {
        Console.Out.WriteLine("@" + text);
        Console.Out.Flush();
    }
}
