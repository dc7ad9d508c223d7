using System.Management.Automation;
using AwsTunnel.Tests.Settings;
using AwsTunnel.Tests.Support;

namespace AwsTunnel.Tests.PowerShellModule;

/// <summary>
/// Export-TunnelSettings, and -SettingsPath, -Setting, -ConfigDirectory, -Proxy,
/// -ProxyCredential and -NoProxy on the Start cmdlets, in a real runspace.
/// </summary>
public sealed class SettingsCmdletTests : IAsyncLifetime
{
    private readonly ModuleRunspace _ps = new();
    private readonly EchoServer _echo = new();
    private readonly string _folder = Directory.CreateTempSubdirectory("awstunnel-ps-settings-").FullName;

    public Task InitializeAsync()
    {
        _ps.Run("$t = New-LocalTunnel -Service ECHO");
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        _ps.Dispose();
        await _echo.DisposeAsync();
        Directory.Delete(_folder, recursive: true);
    }

    [Fact]
    public void Export_TunnelSettings_writes_every_key_and_returns_the_file_with_PassThru()
    {
        string path = Path.Combine(_folder, "lpsettings.json");

        var file = _ps.RunSingle<FileInfo>("Export-TunnelSettings -Path $P -PassThru", ("P", path));

        Assert.Equal(path, file.FullName);
        string text = File.ReadAllText(path);
        Assert.Contains("\"tunneling\"", text);
        Assert.Contains("max_active_connections", text);
        foreach (string key in AwsTunnel.Engine.Settings.ProxySettingKeys.All)
        {
            Assert.Contains("\"" + key.Split('.').Last() + "\"", text);
        }
    }

    [Fact]
    public void Export_TunnelSettings_applies_Setting_overrides()
    {
        string path = Path.Combine(_folder, "custom.json");

        _ps.Run("Export-TunnelSettings -Path $P -Setting @{ 'websocket.ping_period_ms' = 12345 }", ("P", path));

        Assert.Contains("\"12345\"", File.ReadAllText(path));
    }

    [Fact]
    public void Export_TunnelSettings_WhatIf_writes_nothing()
    {
        string path = Path.Combine(_folder, "whatif.json");

        _ps.Run("Export-TunnelSettings -Path $P -WhatIf", ("P", path));

        Assert.False(File.Exists(path));
    }

    [Fact]
    public void A_SettingsPath_with_a_bad_value_is_an_InvalidSettings_error_naming_the_key()
    {
        string path = Path.Combine(_folder, "bad.json");
        File.WriteAllText(path, """{ "tunneling": { "proxy": { "tcp": { "max_active_connections": "lots" } } } }""");

        var error = _ps.RunExpectingError("$t | Start-TunnelSource -Service ECHO=0 -SettingsPath $P", ("P", path));

        Assert.Equal("InvalidSettings,AwsTunnel.PowerShell.Commands.StartTunnelSourceCommand", error.FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.InvalidArgument, error.CategoryInfo.Category);
        Assert.Contains("max_active_connections", error.Exception.Message);
        Assert.Contains("lots", error.Exception.Message);
        Assert.DoesNotContain(_ps.RunSingle<string>("$t.SourceAccessToken"), error.Exception.Message);
    }

    [Fact]
    public async Task A_SettingsPath_file_is_applied_and_its_unknown_keys_are_warnings()
    {
        string path = Path.Combine(_folder, "partial.json");
        File.WriteAllText(path, """{ "tunneling": { "proxy": { "tcp": { "max_active_connections": "1" }, "no_such_section": { "x": "1" } } } }""");

        var result = _ps.Invoke("""
            $d = $t | Start-TunnelDestination -Service "ECHO=127.0.0.1:$EchoPort"
            $s = $t | Start-TunnelSource -Service ECHO=0 -SettingsPath $P
            $s.Ports['ECHO']
            """, ("EchoPort", _echo.Port), ("P", path));
        Assert.Empty(result.Errors);
        Assert.Contains(result.Warnings, w => w.Contains("no_such_section"));
        int port = (int)Assert.Single(result.Output).BaseObject;

        using var first = await TcpProbe.ConnectAsync(port);
        Assert.Equal("one", await TcpProbe.EchoAsync(first, "one"));
        using var second = await TcpProbe.ConnectAsync(port);
        Assert.True(await TcpProbe.ClosesWithinAsync(second, TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public void A_missing_SettingsPath_is_an_InvalidSettings_error_naming_the_file()
    {
        string path = Path.Combine(_folder, "missing.json");

        var error = _ps.RunExpectingError("$t | Start-TunnelDestination -Service ECHO=127.0.0.1:7 -SettingsPath $P", ("P", path));

        Assert.StartsWith("InvalidSettings,", error.FullyQualifiedErrorId);
        Assert.Contains("missing.json", error.Exception.Message);
    }

    [Fact]
    public void An_unknown_Setting_key_is_an_InvalidSettings_error_naming_the_key()
    {
        var error = _ps.RunExpectingError("$t | Start-TunnelSource -Service ECHO=0 -Setting @{ 'websocket.no_such_key' = 1 }");

        Assert.StartsWith("InvalidSettings,", error.FullyQualifiedErrorId);
        Assert.Contains("websocket.no_such_key", error.Exception.Message);
        Assert.Contains("-Setting", error.Exception.Message);
    }

    [Fact]
    public async Task A_Setting_override_is_applied_to_the_session()
    {
        int port = _ps.RunSingle<int>("""
            $d = $t | Start-TunnelDestination -Service "ECHO=127.0.0.1:$EchoPort"
            $s = $t | Start-TunnelSource -Service ECHO=0 -Setting @{ 'tcp.max_active_connections' = 1 }
            $s.Ports['ECHO']
            """, ("EchoPort", _echo.Port));

        using var first = await TcpProbe.ConnectAsync(port);
        Assert.Equal("one", await TcpProbe.EchoAsync(first, "one"));
        using var second = await TcpProbe.ConnectAsync(port);

        Assert.True(await TcpProbe.ClosesWithinAsync(second, TimeSpan.FromSeconds(5)));
        Assert.Equal("still one", await TcpProbe.EchoAsync(first, "still one"));
    }

    [Fact]
    public async Task ConfigDirectory_maps_the_destination_services_without_Service()
    {
        string dir = Path.Combine(_folder, "config");
        Directory.CreateDirectory(Path.Combine(dir, "nested"));
        File.WriteAllText(Path.Combine(dir, "nested", "services.ini"), $"ECHO=127.0.0.1:{_echo.Port}\n");

        int port = _ps.RunSingle<int>("""
            $d = $t | Start-TunnelDestination -ConfigDirectory $Dir
            $s = $t | Start-TunnelSource -Service ECHO=0
            $s.Ports['ECHO']
            """, ("Dir", dir));

        using var client = await TcpProbe.ConnectAsync(port);
        Assert.Equal("from the config dir", await TcpProbe.EchoAsync(client, "from the config dir"));
    }

    [Fact]
    public void A_missing_ConfigDirectory_is_an_InvalidArgument_error_naming_it()
    {
        string dir = Path.Combine(_folder, "no-such-dir");

        var error = _ps.RunExpectingError("$t | Start-TunnelDestination -ConfigDirectory $Dir", ("Dir", dir));

        Assert.StartsWith("InvalidConfigDirectory,", error.FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.InvalidArgument, error.CategoryInfo.Category);
        Assert.Contains("no-such-dir", error.Exception.Message);
    }

    [Fact]
    public async Task Proxy_and_ProxyCredential_connect_through_a_real_authenticating_proxy()
    {
        const string password = "s3cret-proxy-pass";
        await using var proxy = await TinyProxy.StartAsync("tunnel", password);

        var credential = new PSCredential("tunnel", new System.Net.NetworkCredential(string.Empty, password).SecurePassword);
        var result = _ps.Invoke("""
            $d = $t | Start-TunnelDestination -Service "ECHO=127.0.0.1:$EchoPort" -NoProxy
            $s = $t | Start-TunnelSource -Service ECHO=0 -Proxy $ProxyUri -ProxyCredential $Cred -Verbose
            $s.Ports['ECHO']
            """, ("Cred", credential), ("EchoPort", _echo.Port), ("ProxyUri", proxy.Address));
        Assert.Empty(result.Errors);
        int port = (int)Assert.Single(result.Output).BaseObject;

        using var client = await TcpProbe.ConnectAsync(port);
        Assert.Equal("via the proxy", await TcpProbe.EchoAsync(client, "via the proxy"));
        Assert.Contains("CONNECT", proxy.Log);
        Assert.DoesNotContain(password, string.Join("\n", result.Verbose.Concat(result.Warnings)));
    }

    [Fact]
    public async Task A_proxy_without_the_credential_fails_without_printing_secrets()
    {
        await using var proxy = await TinyProxy.StartAsync("tunnel", "right-password");

        var error = _ps.RunExpectingError("$t | Start-TunnelSource -Service ECHO=0 -Proxy $ProxyUri -StartTimeout 10", ("ProxyUri", proxy.Address));

        Assert.Contains($"127.0.0.1:{proxy.Port}", error.Exception.Message);
        Assert.DoesNotContain("right-password", error.Exception.Message);
        Assert.DoesNotContain(_ps.RunSingle<string>("$t.SourceAccessToken"), error.Exception.Message);
    }

    [Fact]
    public void Proxy_with_NoProxy_is_an_error()
    {
        var error = _ps.RunExpectingError("$t | Start-TunnelSource -Service ECHO=0 -Proxy http://127.0.0.1:3128 -NoProxy");

        Assert.StartsWith("InvalidProxy,", error.FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.InvalidArgument, error.CategoryInfo.Category);
        Assert.Contains("-NoProxy", error.Exception.Message);
    }

    [Fact]
    public void Setting_completes_the_settings_keys()
    {
        var matches = _ps.Run("(TabExpansion2 -inputScript $InputText -cursorColumn $InputText.Length).CompletionMatches.ListItemText",
            ("InputText", "Start-TunnelSource -Setting websocket.")).Select(o => o.ToString()).ToArray();

        Assert.Contains("websocket.ping_period_ms", matches);
        Assert.All(matches, m => Assert.StartsWith("websocket.", m));
    }
}
