using AwsTunnel.Engine.Tunnel;

namespace AwsTunnel.Tests.Engine;

/// <summary>
/// The session's dispatcher drops log records beyond its limit while the log output is blocked,
/// and reports how many, once, when it has caught up.
/// </summary>
public class SerialDispatcherTests
{
    [Fact]
    public async Task Records_dropped_behind_a_blocked_log_output_are_reported_once_with_their_count()
    {
        var dispatcher = new SerialDispatcher();
        var reports = new List<(int Count, int WrittenBefore)>();
        int written = 0;
        dispatcher.OnLogsDropped(count => reports.Add((count, written)));

        // The first record blocks the output until released; every record after it waits.
        using var blocking = new ManualResetEventSlim();
        using var running = new ManualResetEventSlim();
        dispatcher.PostLog(() =>
        {
            running.Set();
            blocking.Wait();
            written++;
        });
        Assert.True(running.Wait(TimeSpan.FromSeconds(30)), "the first record should be written");

        const int dropped = 7;
        for (int i = 0; i < SerialDispatcher.MaxPendingLogs + dropped; i++)
        {
            dispatcher.PostLog(() => written++);
        }

        Assert.Equal(dropped, dispatcher.DroppedLogs);
        Assert.Empty(reports);

        blocking.Set();
        Assert.True(await dispatcher.WhenIdleAsync(TimeSpan.FromSeconds(60)), "the dispatcher should catch up");

        var report = Assert.Single(reports);
        Assert.Equal(dropped, report.Count);
        // Reported as soon as the backlog was down to half: records queued after the gap follow the report.
        Assert.Equal(1 + SerialDispatcher.MaxPendingLogs / 2, report.WrittenBefore);
        Assert.Equal(1 + SerialDispatcher.MaxPendingLogs, written);

        // A later burst is reported on its own.
        blocking.Reset();
        running.Reset();
        dispatcher.PostLog(() =>
        {
            running.Set();
            blocking.Wait();
        });
        Assert.True(running.Wait(TimeSpan.FromSeconds(30)), "the blocking record should be written");
        for (int i = 0; i < SerialDispatcher.MaxPendingLogs + 3; i++)
        {
            dispatcher.PostLog(() => { });
        }

        blocking.Set();
        Assert.True(await dispatcher.WhenIdleAsync(TimeSpan.FromSeconds(60)), "the dispatcher should catch up");
        Assert.Equal(new[] { dropped, 3 }, reports.Select(r => r.Count));
        Assert.Equal(dropped + 3, dispatcher.DroppedLogs);
    }

    [Fact]
    public async Task Nothing_is_reported_when_nothing_was_dropped()
    {
        var dispatcher = new SerialDispatcher();
        int reports = 0;
        int written = 0;
        dispatcher.OnLogsDropped(_ => reports++);
        for (int i = 0; i < 100; i++)
        {
            dispatcher.PostLog(() => Interlocked.Increment(ref written));
        }

        Assert.True(await dispatcher.WhenIdleAsync(TimeSpan.FromSeconds(60)), "the dispatcher should catch up");
        Assert.Equal(100, written);
        Assert.Equal(0, reports);
    }
}
