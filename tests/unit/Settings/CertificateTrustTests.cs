using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using AwsTunnel.Engine.Protocol;
using AwsTunnel.Engine.Transport;
using AwsTunnel.Engine.Tunnel;
using AwsTunnel.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;

namespace AwsTunnel.Tests.Settings;

/// <summary>
/// <c>--capath DIR</c>: certificates of a directory (PEM, DER, OpenSSL hashed names) added to the
/// trust for the service, checked with a server certificate issued by a CA made in memory.
/// </summary>
public class CertificateTrustTests
{
    [Fact]
    public async Task A_certificate_from_an_unknown_ca_is_refused_and_the_failure_names_capath()
    {
        using var ca = TestCertificateAuthority.CreateRoot();
        using var server = ca.IssueServer("localhost", "127.0.0.1");
        var trust = new CertificateTrust(new X509Certificate2Collection(), skipVerification: false, caOption: "-c/--capath");

        var error = await HandshakeAsync(server, trust, "localhost");

        Assert.NotNull(error);
        Assert.Contains("not issued by a trusted authority", trust.LastFailure);
        Assert.Contains("add its CA with -c/--capath", trust.LastFailure);
        Assert.DoesNotContain("-CertificatePath", trust.LastFailure);
    }

    [Theory]
    [InlineData("ca.pem")]
    [InlineData("ca.crt")]
    [InlineData("abcd1234.0")]
    public async Task The_ca_in_a_directory_makes_the_certificate_trusted(string fileName)
    {
        using var ca = TestCertificateAuthority.CreateRoot();
        using var server = ca.IssueServer("localhost", "127.0.0.1");
        using var folder = new TempDirectory();
        folder.Write(fileName, ca.Pem);
        var trust = new CertificateTrust(CertificateTrust.LoadDirectory(folder.Path, NullLogger.Instance), skipVerification: false);

        var error = await HandshakeAsync(server, trust, "localhost");

        Assert.Null(error);
        Assert.Null(trust.LastFailure);
    }

    [Fact]
    public async Task The_ca_in_a_directory_is_trusted_also_when_the_tls_layer_checked_the_system_roots_first()
    {
        using var ca = TestCertificateAuthority.CreateRoot();
        using var server = ca.IssueServer("localhost", "127.0.0.1");
        using var folder = new TempDirectory();
        folder.Write("ca.pem", ca.Pem);
        var trust = new CertificateTrust(CertificateTrust.LoadDirectory(folder.Path, NullLogger.Instance), skipVerification: false);

        Assert.Null(await HandshakeAsync(server, trust, "localhost", callbackOnly: true));
        Assert.Null(trust.LastFailure);
    }

    [Fact]
    public void The_handshake_checks_given_cas_alone_first_and_the_system_roots_without_them()
    {
        using var ca = TestCertificateAuthority.CreateRoot();
        using var root = X509CertificateLoader.LoadCertificate(ca.Der);
        var withCas = new CertificateTrust(new X509Certificate2Collection(root), skipVerification: false);

        var policy = withCas.CreateChainPolicy();

        Assert.NotNull(policy);
        Assert.Equal(X509ChainTrustMode.CustomRootTrust, policy!.TrustMode);
        Assert.Equal(X509RevocationMode.NoCheck, policy.RevocationMode);
        Assert.Equal(root.Thumbprint, Assert.Single(policy.CustomTrustStore).Thumbprint);
        Assert.Null(new CertificateTrust(new X509Certificate2Collection(), skipVerification: false).CreateChainPolicy());
        Assert.Null(new CertificateTrust(new X509Certificate2Collection(root), skipVerification: true).CreateChainPolicy());
    }

    [Fact]
    public async Task A_der_encoded_ca_and_an_ip_address_host_work()
    {
        using var ca = TestCertificateAuthority.CreateRoot();
        using var server = ca.IssueServer("localhost", "127.0.0.1");
        using var folder = new TempDirectory();
        File.WriteAllBytes(Path.Combine(folder.Path, "ca.der"), ca.Der);
        var trust = new CertificateTrust(CertificateTrust.LoadDirectory(folder.Path, NullLogger.Instance), skipVerification: false);

        Assert.Null(await HandshakeAsync(server, trust, "127.0.0.1"));
    }

    [Fact]
    public async Task An_openssl_hashed_directory_of_symbolic_links_works()
    {
        using var ca = TestCertificateAuthority.CreateRoot();
        using var server = ca.IssueServer("localhost");
        using var folder = new TempDirectory();
        string target = folder.Write("certs/test-root.pem", ca.Pem);
        string hashed = Path.Combine(folder.Path, "hashed");
        Directory.CreateDirectory(hashed);
        File.CreateSymbolicLink(Path.Combine(hashed, "9d66eef0.0"), target);
        var trust = new CertificateTrust(CertificateTrust.LoadDirectory(hashed, NullLogger.Instance), skipVerification: false);

        Assert.Null(await HandshakeAsync(server, trust, "localhost"));
    }

    [Fact]
    public async Task A_root_in_the_directory_trusts_a_server_that_sends_its_intermediate()
    {
        using var root = TestCertificateAuthority.CreateRoot();
        using var intermediate = root.CreateIntermediate();
        using var server = intermediate.IssueServer("localhost");
        using var folder = new TempDirectory();
        folder.Write("root.pem", root.Pem);
        var trust = new CertificateTrust(CertificateTrust.LoadDirectory(folder.Path, NullLogger.Instance), skipVerification: false);

        Assert.Null(await HandshakeAsync(server, trust, "localhost", intermediate.Certificate));
    }

    [Fact]
    public async Task A_different_ca_in_the_directory_does_not_help()
    {
        using var ca = TestCertificateAuthority.CreateRoot();
        using var other = TestCertificateAuthority.CreateRoot("Some Other CA");
        using var server = ca.IssueServer("localhost");
        using var folder = new TempDirectory();
        folder.Write("other.pem", other.Pem);
        var trust = new CertificateTrust(CertificateTrust.LoadDirectory(folder.Path, NullLogger.Instance), skipVerification: false);

        Assert.NotNull(await HandshakeAsync(server, trust, "localhost"));
        Assert.Contains("nor the given CA certificates", trust.LastFailure);
    }

    [Fact]
    public async Task A_trusted_ca_does_not_excuse_a_wrong_host_name()
    {
        using var ca = TestCertificateAuthority.CreateRoot();
        using var server = ca.IssueServer("service.example.com");
        using var folder = new TempDirectory();
        folder.Write("ca.pem", ca.Pem);
        var trust = new CertificateTrust(CertificateTrust.LoadDirectory(folder.Path, NullLogger.Instance), skipVerification: false);

        Assert.NotNull(await HandshakeAsync(server, trust, "localhost"));
        Assert.Contains("host name check failed", trust.LastFailure);
    }

    [Fact]
    public async Task Skipping_verification_accepts_an_unknown_ca()
    {
        using var ca = TestCertificateAuthority.CreateRoot();
        using var server = ca.IssueServer("service.example.com");

        Assert.Null(await HandshakeAsync(server, new CertificateTrust(new X509Certificate2Collection(), skipVerification: true), "localhost"));
    }

    [Fact]
    public void Files_that_are_not_certificates_are_skipped_and_several_pem_certificates_load()
    {
        using var first = TestCertificateAuthority.CreateRoot("First CA");
        using var second = TestCertificateAuthority.CreateRoot("Second CA");
        using var folder = new TempDirectory();
        folder.Write("bundle.pem", first.Pem + "\n" + second.Pem + "\n");
        folder.Write("README.txt", "not a certificate");
        folder.Write("subdir/ignored.pem", first.Pem);

        var loaded = CertificateTrust.LoadDirectory(folder.Path, NullLogger.Instance);

        Assert.Equal(2, loaded.Count);
    }

    [Fact]
    public void A_directory_without_certificates_warns()
    {
        using var folder = new TempDirectory();
        folder.Write("notes.txt", "nothing here");
        var logs = new LogCapture();

        Assert.Empty(CertificateTrust.LoadDirectory(folder.Path, logs.CreateLogger("test")));
        Assert.Contains(logs.Lines, l => l.StartsWith("Warning") && l.Contains(folder.Path) && l.Contains("no PEM"));
    }

    [Fact]
    public void A_missing_directory_is_an_error_naming_it()
    {
        var error = Assert.Throws<ArgumentException>(() => CertificateTrust.LoadDirectory("/nonexistent/certs", NullLogger.Instance));

        Assert.Contains("'/nonexistent/certs' does not exist", error.Message);
    }

    [Fact]
    public async Task A_tunnel_to_a_service_with_a_test_ca_certificate_fails_without_capath_and_works_with_it()
    {
        using var ca = TestCertificateAuthority.CreateRoot();
        using var serverCertificate = ca.IssueServer("localhost", "127.0.0.1");
        await using var echo = new EchoServer();
        await using var harness = await TunnelHarness.StartAsync(new[] { "SSH1" });
        await using var front = new TlsForwarder(serverCertificate, harness.Service.Endpoint.Port);
        await harness.StartDestinationAsync($"SSH1=127.0.0.1:{echo.Port}");
        var options = harness.Options(TunnelMode.Source, "SSH1=0") with
        {
            ServiceUri = new Uri($"wss://localhost:{front.Port}"),
            TrustedCertificates = null,
            StartTimeout = TimeSpan.FromSeconds(5),
            CertificateAuthorityOption = "--capath",
        };

        var refused = await Assert.ThrowsAsync<TunnelStartException>(() => new TunnelClient(options).StartAsync());
        Assert.Contains("TLS with localhost", refused.Message);
        Assert.Contains("--capath", refused.Message);

        using var folder = new TempDirectory();
        folder.Write("c1f3a2b4.0", ca.Pem);
        var source = await harness.StartAsync(options with { CertificateAuthorityPath = folder.Path });

        Assert.Equal(TunnelState.Connected, source.State);
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, source.Ports["SSH1"]);
        Assert.Equal("checked by the test CA", await TcpProbe.EchoAsync(client.Client, "checked by the test CA"));
    }

    /// <summary>A TLS handshake over loopback: null when the client accepted the server, else the client's error.</summary>
    /// <summary>
    /// A TLS handshake against <paramref name="serverCertificate"/> with the trust set up as the
    /// WebSocket connector sets it (chain policy and callback), or, with
    /// <paramref name="callbackOnly"/>, as the MQTT client does (callback after a system check).
    /// </summary>
    private static async Task<Exception?> HandshakeAsync(X509Certificate2 serverCertificate, CertificateTrust trust, string targetHost,
        X509Certificate2? intermediate = null, bool callbackOnly = false)
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            var accept = listener.AcceptSocketAsync(timeout.Token).AsTask();
            using var clientSocket = new Socket(SocketType.Stream, ProtocolType.Tcp);
            await clientSocket.ConnectAsync(IPAddress.Loopback, ((IPEndPoint)listener.LocalEndpoint).Port, timeout.Token);
            using var serverSocket = await accept;
            await using var serverStream = new SslStream(new NetworkStream(serverSocket, ownsSocket: false));
            await using var clientStream = new SslStream(new NetworkStream(clientSocket, ownsSocket: false));
            var context = SslStreamCertificateContext.Create(serverCertificate,
                intermediate is null ? null : new X509Certificate2Collection(intermediate), offline: true);
            var serverSide = serverStream.AuthenticateAsServerAsync(new SslServerAuthenticationOptions { ServerCertificateContext = context }, timeout.Token);
            Exception? clientError = null;
            try
            {
                await clientStream.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
                {
                    TargetHost = targetHost,
                    EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
                    RemoteCertificateValidationCallback = trust.Validate,
                    CertificateChainPolicy = callbackOnly ? null : trust.CreateChainPolicy(),
                }, timeout.Token);
            }
            catch (AuthenticationException ex)
            {
                clientError = ex;
                clientSocket.Close();
            }

            try
            {
                await serverSide;
            }
            catch (Exception ex) when (ex is AuthenticationException or IOException)
            {
            }

            return clientError;
        }
        finally
        {
            listener.Stop();
        }
    }
}
