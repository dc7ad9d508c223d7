using System.Management.Automation;
using System.Xml.Linq;

namespace AwsTunnel.Tests.PowerShellModule;

/// <summary>The offline tunneling service and its tunnels, as PowerShell users drive them.</summary>
public sealed class LocalServiceTests : IDisposable
{
    private readonly ModuleRunspace _ps = new();

    public void Dispose() => _ps.Dispose();

    [Fact]
    public void New_LocalTunnel_starts_a_default_service_and_returns_an_OpenTunnelResponse_shape()
    {
        var tunnel = Assert.Single(_ps.Run("New-LocalTunnel -Service SSH1, SSH2"));

        foreach (var name in new[] { "TunnelId", "TunnelArn", "SourceAccessToken", "DestinationAccessToken", "Endpoint", "Services", "Certificate" })
        {
            Assert.NotNull(tunnel.Properties[name]);
        }

        Assert.Equal(new[] { "SSH1", "SSH2" }, (string[])tunnel.Properties["Services"].Value);
        Assert.StartsWith("arn:aws:iot:local:", (string)tunnel.Properties["TunnelArn"].Value);
        Assert.StartsWith("ws://127.0.0.1:", (string)tunnel.Properties["Endpoint"].Value);
        Assert.Single(_ps.Run("Get-LocalTunnelService"));
        Assert.Equal(2, _ps.Run("New-LocalTunnel; New-LocalTunnel").Count);
        Assert.Single(_ps.Run("Get-LocalTunnelService")); // the same default service
    }

    [Fact]
    public void Start_LocalTunnelService_takes_localhost_as_its_address_like_awstunnel_service()
    {
        var service = Assert.Single(_ps.Run("Start-LocalTunnelService -Address localhost"));

        Assert.StartsWith("ws://127.0.0.1:", service.Properties["Endpoint"].Value.ToString());
        var error = _ps.RunExpectingError("Start-LocalTunnelService -Address nowhere.example");
        Assert.Contains("-Address 'nowhere.example'", error.Exception.Message);
    }

    [Fact]
    public async Task The_service_shows_its_API_endpoint_and_lists_tunnels_opened_through_the_API()
    {
        var service = Assert.Single(_ps.Run("Start-LocalTunnelService"));
        string apiEndpoint = (string)service.Properties["ApiEndpoint"].Value;
        Assert.Equal($"$env:AWS_ENDPOINT_URL_IOTSECURETUNNELING = '{apiEndpoint}'", (string)service.Properties["EnvironmentLine"].Value);

        using var api = new AwsTunnel.Tests.Support.TunnelingApiClient(new Uri(apiEndpoint));
        string id = (await api.OkAsync("OpenTunnel", new { destinationConfig = new { services = new[] { "SSH" } } }))["tunnelId"]!.GetValue<string>();

        var listed = _ps.Run("(Get-LocalTunnelService).Tunnels").Select(t => (string)t.Properties["TunnelId"].Value);
        Assert.Equal(new[] { id }, listed);
    }

    [Fact]
    public void A_local_tunnel_does_not_show_its_tokens_in_ToString()
    {
        var text = _ps.Run("$t = New-LocalTunnel -Service SSH1; \"$t\"; $t.ToString()").Select(o => o.ToString()).ToList();
        var tokens = _ps.Run("$t.SourceAccessToken; $t.DestinationAccessToken").Select(o => o.ToString()).ToList();

        Assert.All(text, line => Assert.All(tokens, token => Assert.DoesNotContain(token, line, StringComparison.Ordinal)));
        Assert.Contains("SSH1", text[0], StringComparison.Ordinal);
    }

    [Fact]
    public void The_format_file_has_no_view_that_shows_a_token()
    {
        var formats = XDocument.Load(Path.Combine(ModuleRunspace.ModuleFolder, "AwsTunnel.Format.ps1xml"));

        var shown = formats.Descendants("PropertyName").Select(e => e.Value)
            .Concat(formats.Descendants("ScriptBlock").Select(e => e.Value));
        Assert.DoesNotContain(shown, s => s.Contains("AccessToken", StringComparison.OrdinalIgnoreCase) || s.Contains("ClientToken", StringComparison.OrdinalIgnoreCase));
        foreach (var type in new[] { "TunnelSession", "TunnelStream", "TunnelStreamEvent", "LocalService.LocalTunnelInfo", "LocalService.LocalTunnelServiceInfo" })
        {
            Assert.Contains(formats.Descendants("TypeName"), t => t.Value == "AwsTunnel.PowerShell." + type);
        }
    }

    [Fact]
    public void Close_LocalTunnel_closes_the_tunnel()
    {
        var open = _ps.Run("$t = New-LocalTunnel -Service SSH1; $t.IsOpen; $t | Close-LocalTunnel; $t.IsOpen");

        Assert.Equal(new[] { true, false }, open.Select(o => (bool)o.BaseObject));
    }

    [Fact]
    public void Close_LocalTunnel_reports_an_unknown_id()
    {
        _ps.Run("$null = New-LocalTunnel");
        var result = _ps.Invoke("Close-LocalTunnel -TunnelId 00000000-0000-0000-0000-000000000000");

        var error = Assert.Single(result.Errors);
        Assert.Equal("LocalTunnelNotFound,AwsTunnel.PowerShell.Commands.CloseLocalTunnelCommand", error.FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.ObjectNotFound, error.CategoryInfo.Category);
    }

    [Fact]
    public void Stop_LocalTunnelService_closes_its_tunnels_and_forgets_it()
    {
        var states = _ps.Run("$t = New-LocalTunnel -Service SSH1; Stop-LocalTunnelService; $t.IsOpen; @(Get-LocalTunnelService).Count");

        Assert.Equal(new object[] { false, 0 }, states.Select(o => o.BaseObject));
    }

    [Fact]
    public void Start_LocalTunnelService_with_Tls_serves_wss_and_its_tunnels_carry_the_certificate()
    {
        var values = _ps.Run("$svc = Start-LocalTunnelService -UseTls; $svc.Endpoint; $t = New-LocalTunnel -LocalService $svc; $t.Certificate.Thumbprint -eq $svc.Certificate.Thumbprint");

        Assert.StartsWith("wss://localhost:", values[0].ToString());
        Assert.True((bool)values[1].BaseObject);
    }

    [Fact]
    public void New_LocalTunnel_rejects_a_malformed_service_id()
    {
        var error = _ps.RunExpectingError("New-LocalTunnel -Service 'SSH 1'");

        Assert.Equal("ParameterArgumentValidationError,AwsTunnel.PowerShell.Commands.NewLocalTunnelCommand", error.FullyQualifiedErrorId);
    }
}
