using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;

namespace AwsTunnel.Tests.Interop;

/// <summary>
/// One run of the reference C++ localproxy, the binary <c>LOCALPROXY</c> names (built outside this
/// repository). The token goes in <c>AWSIOT_TUNNEL_ACCESS_TOKEN</c>; both output streams are kept
/// for waiting on its log lines and for failure messages. Disposing kills the process it started.
/// </summary>
internal sealed class ReferenceProxy : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private ReferenceProxy(Process process, string name)
    {
        _process = process;
        Name = name;
    }

    /// <summary>The binary, or null when <c>LOCALPROXY</c> is unset or names no file.</summary>
    public static string? Binary =>
        Environment.GetEnvironmentVariable("LOCALPROXY") is { Length: > 0 } path && File.Exists(path) ? path : null;

    /// <summary>Null when the reference can run; otherwise why its tests are skipped.</summary>
    public static string? WhyUnavailable =>
        Binary is not null ? null
        : Environment.GetEnvironmentVariable("LOCALPROXY") is { Length: > 0 } given ? $"LOCALPROXY names '{given}', which is not a file."
        : "Set LOCALPROXY to a reference localproxy binary (built outside this repository) to run the interop suite.";

    public string Name { get; }

    /// <summary>Everything it printed so far (it never prints tokens it was given in the environment).</summary>
    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    public bool HasExited => _process.HasExited;

    public static ReferenceProxy Start(string name, string accessToken, IEnumerable<string> arguments, IDictionary<string, string>? environment = null)
    {
        var info = new ProcessStartInfo(Binary ?? throw new InvalidOperationException(WhyUnavailable))
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            // Its default ./config must not pick up a stray directory: run it in an empty one.
            WorkingDirectory = Path.GetTempPath(),
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        info.Environment["AWSIOT_TUNNEL_ACCESS_TOKEN"] = accessToken;
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[key] = value;
        }

        var process = new Process { StartInfo = info };
        var proxy = new ReferenceProxy(process, name);
        process.OutputDataReceived += (_, e) => proxy.Append(e.Data);
        process.ErrorDataReceived += (_, e) => proxy.Append(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return proxy;
    }

    /// <summary>Waits for the <paramref name="occurrence"/>th line matching <paramref name="pattern"/> (a hang guard, not a timing target).</summary>
    public async Task<Match> WaitForLineAsync(Regex pattern, int timeoutSeconds = 60, int occurrence = 1)
    {
        var deadline = DateTime.UtcNow.AddSeconds(timeoutSeconds);
        while (true)
        {
            var matches = Output.Split('\n').Select(l => pattern.Match(l)).Where(m => m.Success).ToList();
            if (matches.Count >= occurrence)
            {
                return matches[occurrence - 1];
            }

            if (HasExited)
            {
                Assert.Fail($"The reference {Name} exited with {_process.ExitCode} before printing /{pattern}/.\n{Output}");
            }

            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"The reference {Name} did not print /{pattern}/ within {timeoutSeconds} s.\n{Output}");
            }

            await Task.Delay(50);
        }
    }

    private int _disposed;

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }

        await _process.WaitForExitAsync();
        _process.Dispose();
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
        }
    }
}
