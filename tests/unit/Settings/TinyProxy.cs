using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace AwsTunnel.Tests.Settings;

/// <summary>
/// A real HTTP proxy for tests: Debian's <c>tinyproxy</c> from PATH, started in the foreground
/// on a free loopback port with a generated configuration in a temp folder, and killed on
/// dispose. Fails the test with a clear message when tinyproxy is not installed.
/// </summary>
public sealed class TinyProxy : IAsyncDisposable
{
    private readonly Process _process;
    private readonly TempDirectory _folder;

    private TinyProxy(Process process, TempDirectory folder, int port)
    {
        _process = process;
        _folder = folder;
        Port = port;
    }

    public int Port { get; }

    /// <summary>The proxy's address, without credentials.</summary>
    public Uri Address => new($"http://127.0.0.1:{Port}");

    /// <summary>What tinyproxy logged so far (connections, CONNECT targets, refusals).</summary>
    public string Log
    {
        get
        {
            string path = Path.Combine(_folder.Path, "tinyproxy.log");
            try
            {
                using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
                return new StreamReader(stream).ReadToEnd();
            }
            catch (IOException)
            {
                return string.Empty;
            }
        }
    }

    /// <summary>Starts tinyproxy.</summary>
    /// <param name="user">With <paramref name="password"/>: require Basic authentication.</param>
    /// <param name="password">The password for <paramref name="user"/>.</param>
    /// <param name="refuseConnect">Refuse every CONNECT (tinyproxy's <c>ConnectPort 0</c>).</param>
    public static async Task<TinyProxy> StartAsync(string? user = null, string? password = null, bool refuseConnect = false)
    {
        string executable = Find() ?? throw new Xunit.Sdk.XunitException(
            "tinyproxy must be installed for the web proxy tests (Debian: apt-get install -y tinyproxy); it was not found on PATH, /usr/bin or /usr/sbin.");
        var folder = new TempDirectory();
        int port = FreePort();
        var lines = new List<string>
        {
            $"Port {port}",
            "Listen 127.0.0.1",
            "Timeout 30",
            "Allow 127.0.0.1",
            "MaxClients 50",
            "LogLevel Info",
            $"LogFile \"{Path.Combine(folder.Path, "tinyproxy.log")}\"",
            $"PidFile \"{Path.Combine(folder.Path, "tinyproxy.pid")}\"",
        };

        // No ConnectPort line allows CONNECT to every port; a single "ConnectPort 0" disables CONNECT.
        if (refuseConnect)
        {
            lines.Add("ConnectPort 0");
        }

        if (user is not null)
        {
            lines.Add($"BasicAuth {user} {password}");
        }

        string config = folder.Write("tinyproxy.conf", string.Join("\n", lines) + "\n");
        var start = new ProcessStartInfo(executable)
        {
            ArgumentList = { "-d", "-c", config },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        var process = Process.Start(start) ?? throw new InvalidOperationException("tinyproxy did not start.");
        var output = new System.Text.StringBuilder();
        process.OutputDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var proxy = new TinyProxy(process, folder, port);

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (true)
        {
            if (process.HasExited)
            {
                await proxy.DisposeAsync();
                throw new Xunit.Sdk.XunitException($"tinyproxy exited at start with code {process.ExitCode}: {output}");
            }

            try
            {
                using var probe = new TcpClient();
                await probe.ConnectAsync(IPAddress.Loopback, port);
                return proxy;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(50);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill();
                using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                await _process.WaitForExitAsync(wait.Token);
            }
        }
        catch (Exception ex) when (ex is InvalidOperationException or OperationCanceledException)
        {
        }

        _process.Dispose();
        _folder.Dispose();
    }

    private static string? Find()
    {
        var folders = (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Concat(new[] { "/usr/bin", "/usr/sbin", "/usr/local/bin", "/usr/local/sbin" });
        return folders.Select(f => Path.Combine(f, "tinyproxy")).FirstOrDefault(File.Exists);
    }

    private static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
