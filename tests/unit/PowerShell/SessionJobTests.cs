using System.Management.Automation;
using AwsTunnel.Tests.Support;

namespace AwsTunnel.Tests.PowerShellModule;

/// <summary>Tunnel sessions behave as PowerShell jobs: Get-Job, Receive-Job, Wait-Job, Stop-Job, Remove-Job.</summary>
public sealed class SessionJobTests : IAsyncLifetime
{
    private readonly ModuleRunspace _ps = new();
    private readonly EchoServer _echo = new();
    private int _port;

    public Task InitializeAsync()
    {
        _port = _ps.RunSingle<int>("""
            $t = New-LocalTunnel -Service ECHO
            $d = $t | Start-TunnelDestination -Service "ECHO=127.0.0.1:$EchoPort" -Name echo-destination
            $s = $t | Start-TunnelSource -Name echo-source
            $s.Ports['ECHO']
            """, ("EchoPort", _echo.Port));
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        _ps.Dispose();
        await _echo.DisposeAsync();
    }

    [Fact]
    public void Get_Job_lists_running_sessions_as_TunnelSession_jobs()
    {
        var jobs = _ps.Run("Get-Job | Where-Object PSJobTypeName -eq TunnelSession");

        Assert.Equal(new[] { "echo-destination", "echo-source" }, jobs.Select(j => ((Job)j.BaseObject).Name).Order());
        Assert.All(jobs, j => Assert.Equal(JobState.Running, ((Job)j.BaseObject).JobStateInfo.State));
        Assert.Equal("echo-source", _ps.RunSingle<Job>("Get-Job -Name echo-source").Name);
        Assert.Equal("echo-source", _ps.RunSingle<Job>("Get-Job -Id $s.Id").Name);
    }

    [Fact]
    public async Task Receive_Job_returns_stream_open_and_close_events()
    {
        using (var client = await TcpProbe.ConnectAsync(_port))
        {
            await TcpProbe.EchoAsync(client, "one exchange");
        }

        await Eventually.TrueAsync(() => Events("Closed", keep: true).Count == 1, "the close event");
        var events = Events(null, keep: false);

        Assert.Equal(new[] { "Opened", "Closed" }, events.Select(e => (string)e.Properties["Event"].Value));
        Assert.All(events, e => Assert.Equal("ECHO", e.Properties["ServiceId"].Value));
        Assert.Equal("AwsTunnel.PowerShell.TunnelStreamEvent", events[0].TypeNames[0]);
        Assert.Empty(Events(null, keep: false)); // received once, then gone
    }

    [Fact]
    public void Receive_Job_returns_engine_log_records_on_the_verbose_stream_without_tokens()
    {
        var result = _ps.Invoke("Receive-Job $s -Keep -Verbose 4>&1 | ForEach-Object { \"$_\" }");
        var lines = result.Output.Select(o => o.ToString()).ToList();

        Assert.Contains(lines, l => l.Contains("Tunnel ready as source", StringComparison.Ordinal));
        string tokens = _ps.Run("$t.SourceAccessToken; $t.DestinationAccessToken").Select(o => o.ToString()).Aggregate((a, b) => a + "|" + b);
        foreach (var token in tokens.Split('|'))
        {
            Assert.DoesNotContain(lines, l => l.Contains(token, StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task Stop_Job_stops_the_session_and_releases_its_port()
    {
        _ps.Run("Stop-Job -Name echo-source");

        Assert.Equal("Stopped", _ps.RunSingle<object>("$s.JobStateInfo.State").ToString());
        Assert.Equal("Stopped", _ps.RunSingle<object>("$s.EndReason").ToString());
        await Assert.ThrowsAnyAsync<System.Net.Sockets.SocketException>(() => TcpProbe.ConnectAsync(_port));
        Assert.Equal("Running", _ps.RunSingle<object>("$d.JobStateInfo.State").ToString());
    }

    [Fact]
    public void Wait_Job_returns_when_the_tunnel_is_closed_and_the_sessions_complete()
    {
        var finished = _ps.Run("$t | Close-LocalTunnel; Wait-Job -Job $s, $d -Timeout 20");

        Assert.Equal(2, finished.Count);
        Assert.All(finished, j => Assert.Equal(JobState.Completed, ((Job)j.BaseObject).JobStateInfo.State));
        Assert.Equal("TunnelClosed", _ps.RunSingle<object>("$s.EndReason").ToString());
    }

    [Fact]
    public void Remove_Job_disposes_a_session_and_forgets_it()
    {
        _ps.Run("Remove-Job -Name echo-source -Force");

        Assert.Empty(_ps.Run("Get-Job -Name echo-source -ErrorAction SilentlyContinue"));
        Assert.Equal(new[] { "echo-destination" }, _ps.Run("Get-TunnelSession").Select(o => ((Job)o.BaseObject).Name));
        Assert.Equal("Stopped", _ps.RunSingle<object>("$s.JobStateInfo.State").ToString());
    }

    [Fact]
    public void Stop_TunnelSession_stops_by_name_and_passes_the_sessions_through()
    {
        var stopped = _ps.Run("Stop-TunnelSession -Name echo-* -PassThru");

        Assert.Equal(2, stopped.Count);
        Assert.All(stopped, j => Assert.Equal(JobState.Stopped, ((Job)j.BaseObject).JobStateInfo.State));
        Assert.Equal(2, _ps.Run("Get-TunnelSession -State Stopped").Count);
    }

    [Fact]
    public void Stop_TunnelSession_WhatIf_leaves_the_session_running()
    {
        _ps.Run("$s | Stop-TunnelSession -WhatIf");

        Assert.Equal("Running", _ps.RunSingle<object>("$s.JobStateInfo.State").ToString());
    }

    [Fact]
    public void Get_TunnelSession_reports_an_unknown_name_as_an_error()
    {
        var result = _ps.Invoke("Get-TunnelSession -Name no-such-session");

        var error = Assert.Single(result.Errors);
        Assert.Equal("SessionNotFound,AwsTunnel.PowerShell.Commands.GetTunnelSessionCommand", error.FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.ObjectNotFound, error.CategoryInfo.Category);
    }

    private List<PSObject> Events(string? kind, bool keep) =>
        _ps.Run($"Receive-Job $s {(keep ? "-Keep" : "")}")
            .Where(e => kind is null || (string)e.Properties["Event"].Value == kind)
            .ToList();
}
