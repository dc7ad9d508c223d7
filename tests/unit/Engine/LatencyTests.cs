using AwsTunnel.Engine.Protocol;
using AwsTunnel.Tests.Support;

namespace AwsTunnel.Tests.Engine;

public class LatencyTests
{
    [Fact]
    public async Task A_connected_session_reports_its_round_trip_latency_and_logs_it_at_debug_level()
    {
        await using var harness = await TunnelHarness.StartAsync(new[] { "SSH1" });
        var pings = TunnelHarness.FastSettings with { WebSocketPingPeriodMs = 200 };

        var source = await harness.StartAsync(harness.Options(TunnelMode.Source, "SSH1=0", pings));

        if (!OperatingSystem.IsLinux())
        {
            // Only Linux reports the transport's RTT; elsewhere latency stays unknown rather than wrong.
            await Task.Delay(500);
            Assert.Null(source.Latency);
            return;
        }

        await Eventually.TrueAsync(() => source.Latency is not null, "a latency sample");
        Assert.InRange(source.Latency!.Value, TimeSpan.FromTicks(1), TimeSpan.FromSeconds(1));
        await harness.Logs.WaitForLineAsync(l => l.StartsWith("Debug") && l.Contains("Round-trip latency to the service"), "the log line");
    }
}
