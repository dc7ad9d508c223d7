using System.Net;
using AwsTunnel.Engine.Protocol;
using AwsTunnel.Engine.Service;
using AwsTunnel.Engine.Tunnel;
using AwsTunnel.Tests.Support;

namespace AwsTunnel.Tests.Engine;

/// <summary>Certificate and host verification are on by default and say which check failed.</summary>
public class TlsVerificationTests
{
    [Fact]
    public async Task A_trusted_certificate_for_another_host_is_refused_saying_the_host_name_check_failed()
    {
        await using var service = new LocalTunnelService(new LocalTunnelServiceOptions { UseTls = true, Address = IPAddress.Parse("127.0.0.2") });
        await service.StartAsync();
        var tunnel = service.CreateTunnel(new[] { "SSH1" });
        var options = new TunnelOptions
        {
            Mode = TunnelMode.Source,
            ServiceUri = new Uri($"wss://127.0.0.2:{service.Endpoint.Port}"),
            AccessToken = tunnel.SourceAccessToken,
            TrustedCertificates = new(service.Certificate!),
            StartTimeout = TimeSpan.FromSeconds(10),
        };

        var error = await Assert.ThrowsAsync<TunnelStartException>(() => new TunnelClient(options).StartAsync());

        Assert.Contains("host name check failed", error.Message);
    }

    [Fact]
    public async Task Skipping_certificate_checks_connects_to_an_untrusted_service_and_warns()
    {
        await using var harness = await TunnelHarness.StartAsync(new[] { "SSH1" }, tls: true);
        var options = harness.Options(TunnelMode.Source, "SSH1=0") with { TrustedCertificates = null, SkipCertificateCheck = true };

        var source = await harness.StartAsync(options);

        Assert.Equal(TunnelState.Connected, source.State);
        await harness.Logs.WaitForLineAsync(l => l.StartsWith("Warning") && l.Contains("Certificate verification is off"), "the log line");
    }

    [Fact]
    public async Task A_source_bound_to_a_wildcard_address_warns()
    {
        await using var harness = await TunnelHarness.StartAsync(new[] { "SSH1" });

        await harness.StartAsync(harness.Options(TunnelMode.Source, "SSH1=0") with { BindAddress = "0.0.0.0" });

        await harness.Logs.WaitForLineAsync(l => l.StartsWith("Warning") && l.Contains("wildcard address"), "the log line");
    }
}
