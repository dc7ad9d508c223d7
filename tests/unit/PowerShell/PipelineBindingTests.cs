using System.Management.Automation;
using AwsTunnel.Tests.Support;

namespace AwsTunnel.Tests.PowerShellModule;

/// <summary>
/// The Start cmdlets bind from what users pipe: AWS Tools' OpenTunnelResponse, a device's
/// notification payload (after ConvertFrom-Json), and New-LocalTunnel output.
/// </summary>
public sealed class PipelineBindingTests : IAsyncLifetime
{
    private const string SourceCmdlet = "AwsTunnel.PowerShell.Commands.StartTunnelSourceCommand";

    private readonly ModuleRunspace _ps = new();
    private readonly EchoServer _echo = new();

    public Task InitializeAsync()
    {
        _ps.Run("$t = New-LocalTunnel -Service ECHO");
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        _ps.Dispose();
        await _echo.DisposeAsync();
    }

    [Fact]
    public async Task An_OpenTunnelResponse_binds_each_end_to_its_own_token()
    {
        int port = _ps.RunSingle<int>("""
            $response = [pscustomobject]@{
                TunnelId               = $t.TunnelId
                TunnelArn              = $t.TunnelArn
                SourceAccessToken      = $t.SourceAccessToken
                DestinationAccessToken = $t.DestinationAccessToken
            }
            $d = $response | Start-TunnelDestination -Endpoint $t.Endpoint -Service "ECHO=127.0.0.1:$EchoPort"
            $s = $response | Start-TunnelSource -Endpoint $t.Endpoint -Service ECHO=0
            $s.Ports['ECHO']
            """, ("EchoPort", _echo.Port));

        Assert.Equal(_ps.RunSingle<string>("$t.TunnelId"), _ps.RunSingle<string>("$s.TunnelId"));
        Assert.Equal("Source-" + _ps.RunSingle<string>("$t.TunnelId")[..8], _ps.RunSingle<string>("$s.Name"));
        using var client = await TcpProbe.ConnectAsync(port);
        Assert.Equal("bound", await TcpProbe.EchoAsync(client, "bound"));
    }

    [Fact]
    public void A_notification_payload_binds_token_mode_region_and_services()
    {
        var mode = _ps.RunSingle<object>("""
            $payload = [pscustomobject]@{
                clientAccessToken = $t.DestinationAccessToken
                clientMode        = 'destination'
                region            = 'us-east-1'
                services          = @('ECHO')
            }
            $d = $payload | Start-TunnelDestination -Endpoint $t.Endpoint -Service "ECHO=127.0.0.1:$EchoPort"
            $d.Mode
            """, ("EchoPort", _echo.Port));

        Assert.Equal("Destination", mode.ToString());
        Assert.Equal("Running", _ps.RunSingle<object>("$d.JobStateInfo.State").ToString());
        Assert.True(_ps.RunSingle<bool>("$t.DestinationConnected"));
    }

    [Fact]
    public void A_source_notification_needs_no_Service_the_services_bind_to_free_ports()
    {
        var ports = _ps.Run("""
            $payload = [pscustomobject]@{ clientAccessToken = $t.SourceAccessToken; clientMode = 'source'; services = @('ECHO') }
            ($payload | Start-TunnelSource -Endpoint $t.Endpoint).Ports.Values
            """);

        Assert.True((int)Assert.Single(ports).BaseObject > 0);
    }

    [Theory]
    [InlineData("-Service @{ECHO=0}")]
    [InlineData("-Service ECHO")]
    [InlineData("-Service 'ECHO=0'")]
    [InlineData("")]
    public void Service_takes_strings_hashtables_and_bare_ids(string service)
    {
        var port = _ps.RunSingle<int>($"($t | Start-TunnelSource {service}).Ports['ECHO']");

        Assert.True(port > 0);
    }

    [Fact]
    public void The_region_comes_from_the_TunnelArn()
    {
        // An invalid region proves where the region came from without any network traffic.
        var error = _ps.RunExpectingError("[pscustomobject]@{ SourceAccessToken = 'x'; TunnelArn = 'arn:aws:iot:from_arn:123456789012:tunnel/abc' } | Start-TunnelSource");

        Assert.Equal("InvalidEndpoint," + SourceCmdlet, error.FullyQualifiedErrorId);
        Assert.Contains("'from_arn'", error.Exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Region_beats_the_TunnelArn_and_the_TunnelArn_beats_StoredAWSRegion()
    {
        var explicitRegion = _ps.RunExpectingError("[pscustomobject]@{ SourceAccessToken = 'x'; TunnelArn = 'arn:aws:iot:from_arn:1:tunnel/abc' } | Start-TunnelSource -Region given_region");
        var arnRegion = _ps.RunExpectingError("$StoredAWSRegion = 'stored_region'; [pscustomobject]@{ SourceAccessToken = 'x'; TunnelArn = 'arn:aws:iot:from_arn:1:tunnel/abc' } | Start-TunnelSource");
        var storedRegion = _ps.RunExpectingError("$StoredAWSRegion = 'stored_region'; Start-TunnelSource -AccessToken x");

        Assert.Contains("'given_region'", explicitRegion.Exception.Message, StringComparison.Ordinal);
        Assert.Contains("'from_arn'", arnRegion.Exception.Message, StringComparison.Ordinal);
        Assert.Contains("'stored_region'", storedRegion.Exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void StartTimeout_takes_seconds()
    {
        var error = _ps.RunExpectingError("Start-TunnelSource -AccessToken x -Endpoint $t.Endpoint -StartTimeout 0.001");

        Assert.Contains(error.FullyQualifiedErrorId.Split(',')[0], new[] { "Timeout", "HandshakeRejected", "Unreachable" });
    }
}
