using AwsTunnel.Tests.Support;

namespace AwsTunnel.Tests.Engine;

/// <summary>At trace level (-v 6) every message is one line, DATA included, both ways; never a payload.</summary>
public class MessageTraceTests
{
    [Fact]
    public async Task Data_sent_and_received_is_traced_on_both_sides_with_its_size_and_never_its_bytes()
    {
        const string text = "a payload that must stay out of the log";
        await using var echo = new EchoServer();
        await using var harness = await TunnelHarness.StartAsync(new[] { "SSH1" });
        await harness.StartDestinationAsync($"SSH1=127.0.0.1:{echo.Port}");
        var source = await harness.StartSourceAsync("SSH1=0");

        using var socket = await TcpProbe.ConnectAsync(source.Ports["SSH1"]);
        Assert.Equal(text, await TcpProbe.EchoAsync(socket, text));

        string size = $"{text.Length} payload bytes";
        // Source to destination and the echo back: two DATA sent and two received.
        await Eventually.TrueAsync(() =>
            harness.Logs.Lines.Count(l => l.StartsWith("Trace") && l.Contains("Sending Data:") && l.EndsWith(size)) == 2 &&
            harness.Logs.Lines.Count(l => l.StartsWith("Trace") && l.Contains("Received Data:") && l.EndsWith(size)) == 2,
            "two DATA traced as sent and two as received");
        Assert.Contains(harness.Logs.Lines, l => l.Contains("Sending StreamStart:"));
        Assert.DoesNotContain(harness.Logs.Lines, l => l.Contains(text));
    }
}
