using System.Text;
using AwsTunnel.Cli;

namespace AwsTunnel.Tests.Cli;

/// <summary>
/// One in-process run of <c>awstunnel</c>: its stdout and stderr captured, its environment
/// given explicitly (nothing leaks in from the test machine), and a stop for Ctrl+C.
/// </summary>
internal sealed class CliRun
{
    private readonly CancellationTokenSource _signal = new();

    private CliRun(string[] args, IDictionary<string, string?> environment)
    {
        Exit = Task.Run(() => CliApp.RunAsync(args, Out, Error, environment, _signal.Token));
    }

    public CapturedWriter Out { get; } = new();
    public CapturedWriter Error { get; } = new();
    public Task<int> Exit { get; }

    /// <summary>The exit code of a run that has ended.</summary>
    public int ExitCode => Exit.IsCompleted ? Exit.GetAwaiter().GetResult() : throw new InvalidOperationException("awstunnel is still running.");

    /// <summary>The stderr lines the CLI itself wrote as errors.</summary>
    public IReadOnlyList<string> ErrorLines => Lines(Error).Where(l => l.StartsWith("awstunnel: error:", StringComparison.Ordinal)).ToList();

    public static CliRun Start(string[] args, IDictionary<string, string?>? environment = null) =>
        new(args, environment ?? new Dictionary<string, string?>());

    /// <summary>Runs to the end (bounded, so a hang fails the test instead of the suite).</summary>
    public static async Task<CliRun> CompleteAsync(string[] args, IDictionary<string, string?>? environment = null, int timeoutSeconds = 30)
    {
        var run = Start(args, environment);
        try
        {
            await run.Exit.WaitAsync(TimeSpan.FromSeconds(timeoutSeconds));
        }
        catch (TimeoutException)
        {
            Assert.Fail($"awstunnel {string.Join(' ', args)} did not exit within {timeoutSeconds} s.\nstdout:\n{run.Out}\nstderr:\n{run.Error}");
        }

        return run;
    }

    /// <summary>What Ctrl+C or SIGTERM does: cancel, then wait for the exit code.</summary>
    public async Task<int> StopAsync(int timeoutSeconds = 15)
    {
        _signal.Cancel();
        return await Exit.WaitAsync(TimeSpan.FromSeconds(timeoutSeconds));
    }

    /// <summary>Waits for a stdout line matching <paramref name="predicate"/> and returns it.</summary>
    public async Task<string> WaitForOutputLineAsync(Func<string, bool> predicate, int timeoutMs = 15000)
    {
        var deadline = DateTime.UtcNow.AddMilliseconds(timeoutMs);
        while (true)
        {
            var line = Lines(Out).FirstOrDefault(predicate);
            if (line is not null)
            {
                return line;
            }

            if (Exit.IsCompleted)
            {
                Assert.Fail($"awstunnel exited with {ExitCode} before printing the expected line.\nstdout:\n{Out}\nstderr:\n{Error}");
            }

            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"Timed out waiting for a stdout line.\nstdout:\n{Out}\nstderr:\n{Error}");
            }

            await Task.Delay(20);
        }
    }

    private static string[] Lines(CapturedWriter writer) =>
        writer.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}

/// <summary>A string writer that may be read while the CLI writes to it from other threads.</summary>
internal sealed class CapturedWriter : TextWriter
{
    private readonly StringBuilder _text = new();

    public override Encoding Encoding => Encoding.UTF8;

    public override void Write(char value)
    {
        lock (_text)
        {
            _text.Append(value);
        }
    }

    public override void Write(string? value)
    {
        lock (_text)
        {
            _text.Append(value);
        }
    }

    public override void Write(char[] buffer, int index, int count)
    {
        lock (_text)
        {
            _text.Append(buffer, index, count);
        }
    }

    public override void Write(ReadOnlySpan<char> buffer)
    {
        lock (_text)
        {
            _text.Append(buffer);
        }
    }

    public override string ToString()
    {
        lock (_text)
        {
            return _text.ToString();
        }
    }
}
