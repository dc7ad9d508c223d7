# Shared by the Pester suites: import the built module and run a loopback TCP echo server.
$script:ModuleFolder = if ($env:AWSTUNNEL_MODULE_PATH) { $env:AWSTUNNEL_MODULE_PATH } else { Join-Path $PSScriptRoot '..' '..' 'out' 'AwsTunnel' }
Import-Module $script:ModuleFolder -Force -ErrorAction Stop

if (-not ('AwsTunnelPester.EchoServer' -as [type])) {
    Add-Type -TypeDefinition @'
using System.Net;
using System.Net.Sockets;
using System.Threading.Tasks;

namespace AwsTunnelPester
{
    /// <summary>A TCP echo server on 127.0.0.1 for the suites.</summary>
    public sealed class EchoServer : System.IDisposable
    {
        private readonly TcpListener _listener = new TcpListener(IPAddress.Loopback, 0);

        public EchoServer()
        {
            _listener.Start();
            _ = AcceptAsync();
        }

        public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

        public void Dispose() => _listener.Stop();

        private async Task AcceptAsync()
        {
            while (true)
            {
                TcpClient client;
                try { client = await _listener.AcceptTcpClientAsync(); }
                catch { return; }
                _ = EchoAsync(client);
            }
        }

        private static async Task EchoAsync(TcpClient client)
        {
            using (client)
            {
                var stream = client.GetStream();
                var buffer = new byte[16384];
                try
                {
                    int read;
                    while ((read = await stream.ReadAsync(buffer, 0, buffer.Length)) > 0)
                    {
                        await stream.WriteAsync(buffer, 0, read);
                    }
                }
                catch { }
            }
        }

        /// <summary>Connects to a port, sends text and reads the echo back.</summary>
        public static string Exchange(int port, string text)
        {
            using (var client = new TcpClient())
            {
                client.Connect(IPAddress.Loopback, port);
                client.ReceiveTimeout = 10000;
                var stream = client.GetStream();
                var bytes = System.Text.Encoding.UTF8.GetBytes(text);
                stream.Write(bytes, 0, bytes.Length);
                var back = new byte[bytes.Length];
                int filled = 0;
                while (filled < back.Length)
                {
                    int read = stream.Read(back, filled, back.Length - filled);
                    if (read == 0) break;
                    filled += read;
                }
                return System.Text.Encoding.UTF8.GetString(back, 0, filled);
            }
        }
    }
}
'@
}

function Wait-Until {
    param([scriptblock] $Condition, [int] $TimeoutSeconds = 10)
    $deadline = [DateTime]::UtcNow.AddSeconds($TimeoutSeconds)
    while (-not (& $Condition)) {
        if ([DateTime]::UtcNow -gt $deadline) { throw "Timed out waiting for: $Condition" }
        Start-Sleep -Milliseconds 50
    }
}

# Runs a script in a fresh pwsh, the same pwsh as this one (as a dotnet tool: dotnet <PSHOME>/pwsh.dll),
# with environment variables set ($null removes one); returns its exit code and its output lines.
# With -InputText it runs interactive and reads prompt answers (one a line) from standard input.
function Invoke-ChildPwsh {
    param([string] $Script, [hashtable] $Environment = @{}, [string] $InputText, [int] $TimeoutSeconds = 300)
    $exe = [Environment]::ProcessPath
    $start = [System.Diagnostics.ProcessStartInfo]::new($exe)
    if ([IO.Path]::GetFileNameWithoutExtension($exe) -eq 'dotnet') { $start.ArgumentList.Add((Join-Path $PSHOME 'pwsh.dll')) }
    $mode = if ($PSBoundParameters.ContainsKey('InputText')) { @() } else { @('-NonInteractive') }
    foreach ($argument in @('-NoProfile') + $mode + @('-EncodedCommand', [Convert]::ToBase64String([Text.Encoding]::Unicode.GetBytes($Script)))) {
        $start.ArgumentList.Add($argument)
    }
    foreach ($name in $Environment.Keys) {
        if ($null -eq $Environment[$name]) { $null = $start.Environment.Remove($name) } else { $start.Environment[$name] = $Environment[$name] }
    }
    $start.RedirectStandardOutput = $true
    $start.RedirectStandardError = $true
    $start.RedirectStandardInput = $true
    $start.UseShellExecute = $false
    $process = [System.Diagnostics.Process]::Start($start)
    $process.StandardInput.Write($InputText)
    $process.StandardInput.Close()
    $stderr = $process.StandardError.ReadToEndAsync()
    $stdout = $process.StandardOutput.ReadToEndAsync()
    if (-not $process.WaitForExit($TimeoutSeconds * 1000)) {
        $process.Kill($true)
        throw "The child pwsh did not end within $TimeoutSeconds s: $Script"
    }
    [pscustomobject]@{
        ExitCode = $process.ExitCode
        Output   = @($stdout.Result -split "`r?`n" | Where-Object { $_ })
        Error    = $stderr.Result
    }
}
