using System.Net.Sockets;
using AwsTunnel.Tests.Support;

namespace AwsTunnel.Tests.PowerShellModule;

/// <summary>
/// The README's offline story, in a real runspace: a local tunnel, its destination and its
/// source started from the pipeline, and real TCP clients talking to an echo server through it.
/// </summary>
public sealed class TunnelStoryTests : IAsyncLifetime
{
    private readonly ModuleRunspace _ps = new();
    private readonly EchoServer _echo = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        _ps.Dispose();
        await _echo.DisposeAsync();
    }

    [Fact]
    public async Task Data_moves_through_a_tunnel_started_from_New_LocalTunnel()
    {
        int port = StartEchoTunnel();

        using var client = await TcpProbe.ConnectAsync(port);
        Assert.Equal("hello through the tunnel", await TcpProbe.EchoAsync(client, "hello through the tunnel"));
    }

    [Fact]
    public void The_sessions_report_mode_protocol_services_and_tunnel_id()
    {
        StartEchoTunnel();

        var row = _ps.Run("$s.Mode; $d.Mode; $s.Protocol; $s.ServiceIds; $s.TunnelId -eq $t.TunnelId; $s.JobStateInfo.State; $s.TunnelState")
            .Select(o => o.ToString()).ToArray();
        Assert.Equal(new[] { "Source", "Destination", "V3", "ECHO", "True", "Running", "Connected" }, row);
    }

    [Fact]
    public void A_connected_session_shows_its_latency_to_the_service()
    {
        StartEchoTunnel();

        var latency = _ps.Run("$s.Latency.TotalMilliseconds").Select(o => Convert.ToDouble(o.BaseObject)).ToArray();

        if (OperatingSystem.IsLinux())
        {
            Assert.InRange(Assert.Single(latency), 0.0001, 1000);
        }
    }

    [Fact]
    public async Task Get_TunnelStream_shows_one_object_per_live_connection()
    {
        int port = StartEchoTunnel();
        var clients = new List<Socket>();
        for (int i = 0; i < 3; i++)
        {
            var client = await TcpProbe.ConnectAsync(port);
            clients.Add(client);
            Assert.Equal($"client {i}", await TcpProbe.EchoAsync(client, $"client {i}"));
        }

        await Eventually.TrueAsync(() => Count("Get-TunnelStream -Session $s") == 3 && Count("$d | Get-TunnelStream") == 3,
            "three streams on each end");
        var streams = _ps.Run("Get-TunnelStream -Session $s");
        Assert.All(streams, s => Assert.Equal("ECHO", s.Properties["ServiceId"].Value));
        Assert.Equal(3, streams.Select(s => s.Properties["ConnectionId"].Value).Distinct().Count());
        Assert.Single(streams.Select(s => s.Properties["StreamId"].Value).Distinct());
        Assert.Equal(6, Count("Get-TunnelStream"));
        Assert.Equal(6, Count("Get-TunnelStream -ServiceId EC*"));
        Assert.Equal(0, Count("Get-TunnelStream -ServiceId SSH*"));

        foreach (var client in clients)
        {
            client.Dispose();
        }

        await Eventually.TrueAsync(() => Count("Get-TunnelStream") == 0, "every stream closed");
    }

    [Fact]
    public async Task A_wss_local_service_is_trusted_through_the_pipeline()
    {
        _ps.Run("$null = Start-LocalTunnelService -UseTls");
        int port = StartEchoTunnel();

        Assert.StartsWith("wss://localhost:", _ps.RunSingle<string>("$s.Endpoint"));
        using var client = await TcpProbe.ConnectAsync(port);
        Assert.Equal("over tls", await TcpProbe.EchoAsync(client, "over tls"));
    }

    [Fact]
    public async Task Several_tunnels_run_side_by_side_in_one_session()
    {
        var ports = _ps.Run("""
            1..3 | ForEach-Object {
                $tunnel = New-LocalTunnel -Service ECHO
                $null = $tunnel | Start-TunnelDestination -Service "ECHO=127.0.0.1:$EchoPort" -Name "dest-$_"
                ($tunnel | Start-TunnelSource -Name "src-$_").Ports['ECHO']
            }
            """, ("EchoPort", _echo.Port)).Select(o => (int)o.BaseObject).ToArray();

        Assert.Equal(3, ports.Distinct().Count());
        foreach (int port in ports)
        {
            using var client = await TcpProbe.ConnectAsync(port);
            Assert.Equal($"to {port}", await TcpProbe.EchoAsync(client, $"to {port}"));
        }

        Assert.Equal(6, Count("Get-TunnelSession -State Running"));
        Assert.Equal(3, Count("Get-TunnelSession -Name src-* -Mode Source"));
    }

    [Fact]
    public async Task Closing_the_runspace_stops_its_sessions_and_releases_their_ports()
    {
        int port;
        using (var other = new ModuleRunspace())
        {
            port = other.RunSingle<int>("""
                $t = New-LocalTunnel -Service ECHO
                $null = $t | Start-TunnelDestination -Service "ECHO=127.0.0.1:$EchoPort"
                ($t | Start-TunnelSource).Ports['ECHO']
                """, ("EchoPort", _echo.Port));
            using var client = await TcpProbe.ConnectAsync(port);
            Assert.Equal("before", await TcpProbe.EchoAsync(client, "before"));
        }

        await Assert.ThrowsAnyAsync<SocketException>(() => TcpProbe.ConnectAsync(port));
    }

    /// <summary>The README's quick start; returns the source's bound port.</summary>
    private int StartEchoTunnel() =>
        _ps.RunSingle<int>("""
            $t = New-LocalTunnel -Service ECHO
            $d = $t | Start-TunnelDestination -Service "ECHO=127.0.0.1:$EchoPort"
            $s = $t | Start-TunnelSource -Service ECHO=0
            $s.Ports['ECHO']
            """, ("EchoPort", _echo.Port));

    private int Count(string script) => _ps.Run($"@({script}).Count").Select(o => (int)o.BaseObject).Single();
}
