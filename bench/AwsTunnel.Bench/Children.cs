using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using System.Threading.Channels;

namespace AwsTunnel.Bench;

/// <summary>
/// Every process the bench starts. Each pid is appended to the pid file as it starts, so
/// run.sh can clean up even if the bench itself is killed; <see cref="KillAll"/> ends them
/// on every normal or failed exit.
/// </summary>
internal sealed class ChildRegistry : IDisposable
{
    private readonly List<Child> _children = new();
    private readonly string? _pidFile;
    private readonly object _gate = new();

    public ChildRegistry(string? pidFile) => _pidFile = pidFile;

    public void Add(Child child)
    {
        lock (_gate)
        {
            _children.Add(child);
            if (_pidFile is not null)
            {
                File.AppendAllText(_pidFile, child.Pid + Environment.NewLine);
            }
        }
    }

    public void KillAll()
    {
        List<Child> all;
        lock (_gate)
        {
            all = _children.ToList();
            _children.Clear();
        }

        foreach (var child in all)
        {
            child.Kill();
        }
    }

    public void Dispose() => KillAll();
}

/// <summary>A child process with its stdout lines queued for matching and its stderr kept for error messages.</summary>
internal sealed class Child
{
    private const int StderrKeep = 16 * 1024;
    private readonly Process _process;
    private readonly Channel<string> _lines = Channel.CreateUnbounded<string>(new UnboundedChannelOptions { SingleReader = true });
    private readonly StringBuilder _stderr = new();

    private Child(string name, Process process)
    {
        Name = name;
        _process = process;
    }

    public string Name { get; }
    public int Pid { get; private set; }
    public bool HasExited => _process.HasExited;

    /// <summary>Last part of the child's stderr (awstunnel never writes tokens there).</summary>
    public string Stderr
    {
        get
        {
            lock (_stderr)
            {
                return _stderr.ToString().Trim();
            }
        }
    }

    public static Child Start(
        ChildRegistry registry, string name, string fileName, IEnumerable<string> arguments,
        IReadOnlyDictionary<string, string>? environment = null, bool redirectInput = false, bool matchStderr = false)
    {
        var info = new ProcessStartInfo(fileName)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = redirectInput,
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        // Nothing inherited may steer the proxies: they get exactly what a user would type.
        foreach (var variable in new[] { "AWSIOT_TUNNEL_ACCESS_TOKEN", "AWSIOT_TUNNEL_REGION", "AWSIOT_TUNNEL_ENDPOINT", "https_proxy", "HTTPS_PROXY" })
        {
            info.Environment.Remove(variable);
        }

        if (environment is not null)
        {
            foreach (var (key, value) in environment)
            {
                info.Environment[key] = value;
            }
        }

        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var child = new Child(name, process);
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                child._lines.Writer.TryComplete();
            }
            else
            {
                child._lines.Writer.TryWrite(e.Data);
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                return;
            }

            if (matchStderr)
            {
                child._lines.Writer.TryWrite(e.Data);
            }

            lock (child._stderr)
            {
                child._stderr.AppendLine(e.Data);
                if (child._stderr.Length > StderrKeep)
                {
                    child._stderr.Remove(0, child._stderr.Length - StderrKeep);
                }
            }
        };

        if (!process.Start())
        {
            throw new BenchException($"{name}: the process did not start.");
        }

        child.Pid = process.Id;
        registry.Add(child);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return child;
    }

    /// <summary>Starts `dotnet awstunnel.dll ARGS`, or the CLI executable itself when --cli names one.</summary>
    public static Child StartAwsTunnel(BenchContext ctx, string name, IEnumerable<string> arguments, string? accessToken = null)
    {
        string cli = ctx.Options.CliDll;
        return cli.EndsWith(".dll", StringComparison.OrdinalIgnoreCase)
            ? Start(ctx.Children, name, ctx.Options.Dotnet, new[] { cli }.Concat(arguments), TokenEnvironment(accessToken))
            : Start(ctx.Children, name, cli, arguments, TokenEnvironment(accessToken));
    }

    /// <summary>The access token goes in AWSIOT_TUNNEL_ACCESS_TOKEN, as a user would pass it (never on the command line).</summary>
    public static IReadOnlyDictionary<string, string>? TokenEnvironment(string? accessToken) =>
        accessToken is null ? null : new Dictionary<string, string> { ["AWSIOT_TUNNEL_ACCESS_TOKEN"] = accessToken };

    /// <summary>Reads stdout lines (and stderr lines, if started with matchStderr) until one matches; fails if the process ends or the time is up.</summary>
    public async Task<Match> WaitForLineAsync(Regex pattern, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            while (await _lines.Reader.WaitToReadAsync(cts.Token).ConfigureAwait(false))
            {
                while (_lines.Reader.TryRead(out var line))
                {
                    var match = pattern.Match(line);
                    if (match.Success)
                    {
                        return match;
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
            throw new BenchException($"{Name} printed no line matching /{pattern}/ within {timeout.TotalSeconds:0} s.{StderrNote()}");
        }

        _process.WaitForExit(2000);
        string code = _process.HasExited ? _process.ExitCode.ToString() : "?";
        throw new BenchException($"{Name} ended (exit code {code}) before printing /{pattern}/.{StderrNote()}");
    }

    /// <summary>Waits for the process to exit; returns its exit code, or null if it is still running.</summary>
    public async Task<int?> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token).ConfigureAwait(false);
            return _process.ExitCode;
        }
        catch (OperationCanceledException)
        {
            return null;
        }
    }

    public void WriteLine(string line)
    {
        _process.StandardInput.WriteLine(line);
        _process.StandardInput.Flush();
    }

    public double CpuSeconds() => Proc.CpuSeconds(Pid);

    /// <summary>Peak resident set (VmHWM) in MiB.</summary>
    public double PeakRssMiB() => Proc.Status(Pid, "VmHWM") / 1024.0;

    public double RssMiB() => Proc.Status(Pid, "VmRSS") / 1024.0;

    /// <summary>Fails with the child's stderr if it has exited.</summary>
    public void EnsureRunning()
    {
        if (_process.HasExited)
        {
            throw new BenchException($"{Name} exited unexpectedly (exit code {_process.ExitCode}).{StderrNote()}");
        }
    }

    public void Kill()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(5000);
            }
        }
        catch (Exception ex) when (ex is InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            // Already gone.
        }
    }

    private string StderrNote()
    {
        string err = Stderr;
        return err.Length == 0 ? string.Empty : $" Its stderr: {err}";
    }
}
