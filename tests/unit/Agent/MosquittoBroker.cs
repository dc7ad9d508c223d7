using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using AwsTunnel.Engine.Agent;
using AwsTunnel.Tests.Settings;
using AwsTunnel.Tests.Support;
using MQTTnet;

namespace AwsTunnel.Tests.Agent;

/// <summary>
/// Debian's mosquitto on a free loopback port with mutual TLS, as AWS IoT Core asks of a
/// device: a CA, a server certificate and client certificates made in the test and written as
/// PEM files, <c>require_certificate true</c>. Killed on dispose.
/// </summary>
public sealed class MosquittoBroker : ITestBroker
{
    private readonly TempDirectory _folder;
    private readonly TestCertificateAuthority _authority;
    private readonly string _configPath;
    private readonly X509Certificate2 _publisherCertificate;
    private Process? _process;

    private MosquittoBroker(TempDirectory folder, TestCertificateAuthority authority, int port, string configPath, X509Certificate2 publisher)
    {
        _folder = folder;
        _authority = authority;
        Port = port;
        _configPath = configPath;
        _publisherCertificate = publisher;
    }

    public int Port { get; }

    public BrokerAddress Address => new("127.0.0.1", Port, UseTls: true);

    /// <summary>The CA certificate file (what AmazonRootCA1.pem is for AWS IoT Core).</summary>
    public string CaFile => Path.Combine(_folder.Path, "ca.pem");

    /// <summary>The device's certificate and key files.</summary>
    public string DeviceCertificateFile => Path.Combine(_folder.Path, "device.pem");
    public string DeviceKeyFile => Path.Combine(_folder.Path, "device.key");

    /// <summary>mosquitto from PATH, /usr/sbin or /usr/bin; null when not installed.</summary>
    public static string? Find()
    {
        var dirs = (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator).Concat(new[] { "/usr/sbin", "/usr/bin" });
        return dirs.Select(d => Path.Combine(d, "mosquitto")).FirstOrDefault(File.Exists);
    }

    public static async Task<MosquittoBroker> StartNewAsync()
    {
        var folder = new TempDirectory();
        var authority = TestCertificateAuthority.CreateRoot("AwsTunnel Test MQTT CA");
        using var server = authority.IssueServer("127.0.0.1", "localhost");
        using var device = authority.IssueClient("dev42");
        var publisher = authority.IssueClient("test-publisher");
        folder.Write("ca.pem", authority.Pem);
        folder.Write("server.pem", server.ExportCertificatePem());
        folder.Write("server.key", server.GetECDsaPrivateKey()!.ExportPkcs8PrivateKeyPem());
        folder.Write("device.pem", device.ExportCertificatePem());
        folder.Write("device.key", device.GetECDsaPrivateKey()!.ExportPkcs8PrivateKeyPem());
        int port = TestPorts.FreeOutsideEphemeralRange();
        var lines = new List<string>
        {
            "per_listener_settings false",
            "persistence false",
            "allow_anonymous false",
            "log_dest stderr",
            "log_type error",
            "log_type warning",
            $"listener {port} 127.0.0.1",
            $"cafile {Path.Combine(folder.Path, "ca.pem")}",
            $"certfile {Path.Combine(folder.Path, "server.pem")}",
            $"keyfile {Path.Combine(folder.Path, "server.key")}",
            "require_certificate true",
            "use_identity_as_username true",
        };
        if (Environment.UserName == "root")
        {
            // Run as root, mosquitto would switch to its own user, who cannot read this test's temp folder.
            lines.Insert(0, "user root");
        }

        string config = folder.Write("mosquitto.conf", string.Join("\n", lines) + "\n");
        var broker = new MosquittoBroker(folder, authority, port, config, publisher);
        await broker.StartAsync();
        return broker;
    }

    public AgentOptions Configure(AgentOptions options) => options with
    {
        Broker = Address,
        ClientCertificate = DeviceCertificates.LoadClientCertificate(DeviceCertificateFile, DeviceKeyFile),
        BrokerTrustedCertificates = DeviceCertificates.LoadAuthorities(CaFile),
    };

    public Task PublishAsync(string topic, string payload)
    {
        var trust = new X509Certificate2Collection(_authority.Certificate);
        var options = new MqttClientOptionsBuilder()
            .WithTcpServer("127.0.0.1", Port)
            .WithClientId("test-publisher")
            .WithTlsOptions(tls => tls.UseTls()
                .WithTargetHost("127.0.0.1")
                .WithClientCertificates(new[] { _publisherCertificate })
                .WithTrustChain(trust))
            .Build();
        return MqttPublisher.PublishAsync(options, topic, payload);
    }

    public async Task StartAsync()
    {
        string executable = Find() ?? throw new InvalidOperationException("mosquitto is not installed (Debian: apt-get install -y mosquitto).");
        var start = new ProcessStartInfo(executable, new[] { "-c", _configPath })
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        var process = Process.Start(start) ?? throw new InvalidOperationException("mosquitto did not start.");
        var errors = new System.Text.StringBuilder();
        process.ErrorDataReceived += (_, e) => { lock (errors) { errors.AppendLine(e.Data); } };
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        _process = process;
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (!await AcceptsAsync())
        {
            if (process.HasExited || DateTime.UtcNow > deadline)
            {
                string log;
                lock (errors)
                {
                    log = errors.ToString();
                }

                throw new InvalidOperationException($"mosquitto did not listen on 127.0.0.1:{Port} (exit {(process.HasExited ? process.ExitCode : -1)}): {log}");
            }

            await Task.Delay(50);
        }
    }

    public async Task StopAsync()
    {
        if (_process is { } process)
        {
            _process = null;
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync();
            }

            process.Dispose();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _publisherCertificate.Dispose();
        _authority.Dispose();
        _folder.Dispose();
    }

    private async Task<bool> AcceptsAsync()
    {
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            await probe.ConnectAsync(new IPEndPoint(IPAddress.Loopback, Port));
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}

/// <summary>A test that needs Debian's mosquitto; skipped, saying how to install it, when it is absent.</summary>
public sealed class MosquittoFactAttribute : FactAttribute
{
    public MosquittoFactAttribute()
    {
        if (MosquittoBroker.Find() is null)
        {
            Skip = "mosquitto is not installed: apt-get install -y mosquitto (.ci/run installs it) to run the agent's real-broker tests.";
        }
    }
}
