using AwsTunnel.Tests.Support;

namespace AwsTunnel.Tests.PowerShellModule;

/// <summary>
/// The device side offline, in a real runspace: a local service with an embedded MQTT broker,
/// Start-TunnelAgent on it, New-LocalTunnel -ThingName reaching the agent as AWS IoT would,
/// and an operator's source echoing through the destination the agent started.
/// </summary>
public sealed class TunnelAgentCmdletTests : IAsyncLifetime
{
    private readonly ModuleRunspace _ps = new();
    private readonly EchoServer _echo = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        _ps.Dispose();
        await _echo.DisposeAsync();
    }

    private void StartAgent(string extra = "")
    {
        _ps.Run($$"""
            $service = Start-LocalTunnelService -MqttBroker Embedded
            $agent = $service | Start-TunnelAgent -ThingName dev42 -Service "ECHO=127.0.0.1:$EchoPort" {{extra}}
            """, ("EchoPort", _echo.Port));
    }

    private async Task<int> OpenTunnelThroughAgentAsync(string variable = "t")
    {
        _ps.Run($"${variable} = New-LocalTunnel -Service ECHO -ThingName dev42");
        // The service sees the WebSocket before the agent lists the session (once its start returns).
        await Eventually.TrueAsync(() => _ps.Run($"${variable}.DestinationConnected -and @(Get-TunnelSession | Where-Object Agent -eq $agent.Name).Count -ge 1").Single().BaseObject is true,
            "the agent's destination to connect", 30000);
        return (int)_ps.Run($"$s{variable} = ${variable} | Start-TunnelSource; $s{variable}.Ports['ECHO']").Single().BaseObject;
    }

    [Fact]
    public async Task A_tunnel_opened_for_the_thing_reaches_the_agent_and_data_flows()
    {
        StartAgent();
        Assert.Equal(new object[] { "TunnelAgent", "Running", true, 1, "dev42" },
            _ps.Run("$agent.PSJobTypeName; $agent.State.ToString(); $agent.BrokerConnected; $agent.Subscriptions; $agent.ThingName").Select(o => o.BaseObject).ToArray());

        int port = await OpenTunnelThroughAgentAsync();
        using var client = await TcpProbe.ConnectAsync(port);
        Assert.Equal("device side", await TcpProbe.EchoAsync(client, "device side"));

        var child = _ps.Run("Get-TunnelSession | Where-Object Agent -eq $agent.Name | ForEach-Object { $_.Name; $_.Mode.ToString(); $_.TunnelId -eq $t.TunnelId; $_.State.ToString() }")
            .Select(o => o.BaseObject).ToArray();
        Assert.Equal(new object[] { "agent-dev42:ECHO", "Destination", true, "Running" }, child);
        Assert.Equal(1, _ps.Run("$agent.ChildJobs.Count").Single().BaseObject);
        Assert.Equal(1, _ps.Run("$service.NotificationsPublished").Single().BaseObject);
        Assert.Equal(1, _ps.Run("@(Receive-Job $agent -Keep | Where-Object { $_ -is [AwsTunnel.PowerShell.TunnelSession] }).Count").Single().BaseObject);
    }

    [Fact]
    public async Task Stopping_the_agent_stops_the_destinations_it_started()
    {
        StartAgent();
        await OpenTunnelThroughAgentAsync();
        _ps.Run("$agent | Stop-Job");
        Assert.Equal(new object[] { "Stopped", "Stopped", false },
            _ps.Run("$agent.State.ToString(); (Get-TunnelSession | Where-Object Agent -eq $agent.Name).State.ToString(); $t.DestinationConnected").Select(o => o.BaseObject).ToArray());
    }

    [Fact]
    public async Task The_agent_log_never_shows_a_token()
    {
        StartAgent("-Verbose");
        _ps.Run("$t = New-LocalTunnel -Service ECHO -ThingName dev42; $bad = New-LocalTunnel -Service NOPE -ThingName dev42");
        await Eventually.TrueAsync(() => (int)_ps.Run("$agent.NotificationsSkipped").Single().BaseObject == 1 && _ps.Run("$t.DestinationConnected").Single().BaseObject is true,
            "the good tunnel to be served and the one with no target skipped", 30000);
        // The log reaches the job's streams after the counter moves: wait for the line itself.
        string all = string.Empty;
        await Eventually.TrueAsync(() =>
        {
            all = string.Join("\n", _ps.Run("""
                $agent | Receive-Job -Keep *>&1 | ForEach-Object { "$_" }
                Get-TunnelSession | Receive-Job -Keep *>&1 | ForEach-Object { "$_" }
                """).Select(o => o.ToString()));
            return all.Contains("no target for NOPE", StringComparison.Ordinal);
        }, "the agent's line about the skipped notification", 30000);
        foreach (var token in _ps.Run("$t.DestinationAccessToken; $t.SourceAccessToken; $bad.DestinationAccessToken").Select(o => o.ToString()))
        {
            Assert.DoesNotContain(token, all);
        }
    }

    [Fact]
    public void An_unreachable_broker_fails_the_start_with_AgentStartFailed()
    {
        var error = _ps.RunExpectingError("Start-TunnelAgent -ThingName dev42 -Broker mqtt://127.0.0.1:9 -StartTimeout 2");
        Assert.Equal("AgentStartFailed,AwsTunnel.PowerShell.Commands.StartTunnelAgentCommand", error.FullyQualifiedErrorId);
        Assert.Contains("mqtt://127.0.0.1:9", error.Exception.Message);
        Assert.Empty(_ps.Run("Get-Job"));
    }

    [Fact]
    public void A_bad_thing_name_is_refused_before_connecting()
    {
        var error = _ps.RunExpectingError("Start-TunnelAgent -ThingName 'dev/42' -Broker mqtt://127.0.0.1:9");
        Assert.Equal("InvalidAgentOptions,AwsTunnel.PowerShell.Commands.StartTunnelAgentCommand", error.FullyQualifiedErrorId);
        Assert.Contains("Thing name 'dev/42'", error.Exception.Message);
    }
}
