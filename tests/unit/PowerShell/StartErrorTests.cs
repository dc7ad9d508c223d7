using System.Management.Automation;
using System.Net;
using System.Net.Sockets;
using AwsTunnel.Tests.Support;

namespace AwsTunnel.Tests.PowerShellModule;

/// <summary>
/// Failed starts are terminating ErrorRecords with documented ids and categories, messages
/// that name the input and the fix, and never a token.
/// </summary>
public sealed class StartErrorTests : IAsyncLifetime
{
    private const string SourceCmdlet = "AwsTunnel.PowerShell.Commands.StartTunnelSourceCommand";
    private const string DestinationCmdlet = "AwsTunnel.PowerShell.Commands.StartTunnelDestinationCommand";

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

    [Theory]
    [InlineData("'ECHO='", "has no port after '='")]
    [InlineData("'=22'", "has no service id before '='")]
    [InlineData("'ECHO=99999'", "invalid port '99999'")]
    [InlineData("'ECHO=5555,'", "has an empty entry")]
    [InlineData("'ECHO=5555', 'ECHO=5556'", "service id 'ECHO' more than once")]
    [InlineData("@{ECHO='not a port'}", "invalid port")]
    [InlineData("([datetime]::Now)", "is not a service mapping")]
    public void A_malformed_Service_is_an_InvalidService_error(string service, string expected)
    {
        var error = _ps.RunExpectingError($"$t | Start-TunnelSource -Service {service}");

        Assert.Equal("InvalidService," + SourceCmdlet, error.FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.InvalidArgument, error.CategoryInfo.Category);
        Assert.Contains(expected, error.Exception.Message, StringComparison.Ordinal);
        Assert.Contains("-Service", error.Exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_destination_Service_without_a_target_is_an_InvalidService_error()
    {
        var error = _ps.RunExpectingError("$t | Start-TunnelDestination");

        Assert.Equal("InvalidService," + DestinationCmdlet, error.FullyQualifiedErrorId);
        Assert.Contains("ECHO=HOST:PORT", error.Exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_source_Service_with_a_host_is_an_InvalidOptions_error()
    {
        var error = _ps.RunExpectingError("$t | Start-TunnelSource -Service ECHO=10.0.0.1:22");

        Assert.Equal("InvalidOptions," + SourceCmdlet, error.FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.InvalidArgument, error.CategoryInfo.Category);
    }

    [Fact]
    public void A_wrong_token_is_a_HandshakeRejected_authentication_error_that_does_not_show_the_token()
    {
        const string token = "wrongtoken0123456789wrongtoken0123456789";
        var error = _ps.RunExpectingError($"Start-TunnelSource -AccessToken {token} -Endpoint $t.Endpoint -StartTimeout 15");

        Assert.Equal("HandshakeRejected," + SourceCmdlet, error.FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.AuthenticationError, error.CategoryInfo.Category);
        Assert.DoesNotContain(token, error.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(token, error.CategoryInfo.ToString(), StringComparison.Ordinal);
        Assert.Empty(_ps.Run("Get-TunnelSession"));
    }

    [Fact]
    public void A_token_for_the_other_end_is_rejected()
    {
        var error = _ps.RunExpectingError("Start-TunnelSource -AccessToken $t.DestinationAccessToken -Endpoint $t.Endpoint -StartTimeout 15");

        Assert.Equal("HandshakeRejected," + SourceCmdlet, error.FullyQualifiedErrorId);
        string token = _ps.RunSingle<string>("$t.DestinationAccessToken");
        Assert.DoesNotContain(token, error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void A_Service_the_tunnel_does_not_have_is_a_ServiceMismatch_error()
    {
        var error = _ps.RunExpectingError("$t | Start-TunnelSource -Service SSH1=0 -StartTimeout 15");

        Assert.Equal("ServiceMismatch," + SourceCmdlet, error.FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.InvalidArgument, error.CategoryInfo.Category);
        Assert.Contains("ECHO", error.Exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_source_port_in_use_is_a_PortInUse_error()
    {
        using var busy = new TcpListener(IPAddress.Loopback, 0);
        busy.Start();
        int port = ((IPEndPoint)busy.LocalEndpoint).Port;

        var error = _ps.RunExpectingError($"$t | Start-TunnelSource -Service ECHO={port} -BindAddress 127.0.0.1 -StartTimeout 15");

        Assert.Equal("PortInUse," + SourceCmdlet, error.FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.ResourceUnavailable, error.CategoryInfo.Category);
        Assert.Contains(port.ToString(), error.Exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_notification_for_the_other_mode_is_a_WrongClientMode_error()
    {
        var error = _ps.RunExpectingError(
            "[pscustomobject]@{ clientAccessToken = $t.SourceAccessToken; clientMode = 'source'; region = 'us-east-1'; services = @('ECHO') } | Start-TunnelDestination -Service ECHO=22");

        Assert.Equal("WrongClientMode," + DestinationCmdlet, error.FullyQualifiedErrorId);
        Assert.Contains("Start-TunnelSource", error.Exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_invalid_endpoint_is_an_InvalidEndpoint_error()
    {
        var error = _ps.RunExpectingError("Start-TunnelSource -AccessToken x -Endpoint 'http://example.com'");

        Assert.Equal("InvalidEndpoint," + SourceCmdlet, error.FullyQualifiedErrorId);
        Assert.Contains("ws://", error.Exception.Message, StringComparison.Ordinal);
    }
}
