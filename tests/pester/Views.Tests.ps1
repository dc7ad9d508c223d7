#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }
# The default views as a terminal shows them: each table rendered at 80 and 120 columns keeps
# every header whole (no column cut below its header's width), and shows default names whole at 120.

BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSupport.ps1')

    # Splits a rendered table into its header labels (from the dashes under them) and its rows. A column
    # narrower than its header cuts or wraps the header, so its label no longer reads whole.
    function Get-RenderedTable {
        param([string] $Text)
        # A group line above a table (the local service's "API: $env:..." line) is not part of its header.
        $lines = @($Text -split "`r?`n" | Where-Object { $_.Trim() -and $_ -notmatch '^\s+API: ' })
        $dashLine = @(for ($i = 0; $i -lt $lines.Count; $i++) { if ($lines[$i] -match '^[\s-]+$') { $i; break } })
        if (-not $dashLine) { throw "No table header in:`n$Text" }
        $header = $lines[$dashLine[0] - 1]
        $labels = foreach ($dashes in [regex]::Matches($lines[$dashLine[0]], '-+')) {
            if ($header.Length -lt $dashes.Index + $dashes.Length) { '(cut)' } else { $header.Substring($dashes.Index, $dashes.Length) }
        }
        [pscustomobject]@{
            Labels = @($labels)
            Rows   = @($lines | Select-Object -Skip ($dashLine[0] + 1))
            Lines  = $lines
        }
    }

    $echo = [AwsTunnelPester.EchoServer]::new()
    $t = New-LocalTunnel -Service ECHO, SSH1
    $d = $t | Start-TunnelDestination -Service "ECHO=127.0.0.1:$($echo.Port)", 'SSH1=127.0.0.1:22'
    $s = $t | Start-TunnelSource -Service ECHO=0, SSH1=0
    $null = [AwsTunnelPester.EchoServer]::Exchange($s.Ports['ECHO'], 'one')
    Wait-Until { @(Receive-Job $s -Keep | Where-Object Event -eq Closed).Count -eq 1 }
    # One connection left open, so Get-TunnelStream has rows.
    $client = [System.Net.Sockets.TcpClient]::new('127.0.0.1', $s.Ports['ECHO'])
    Wait-Until { @(Get-TunnelStream -Session $s).Count -eq 1 -and @(Get-TunnelStream -Session $d).Count -eq 1 }
    # A device agent on a service with an embedded MQTT broker.
    $agentService = Start-LocalTunnelService -MqttBroker Embedded
    $agent = $agentService | Start-TunnelAgent -ThingName device-with-a-long-name-42 -Service SSH=127.0.0.1:22

    $views = @{
        Sessions = @{ Render = { Get-TunnelSession }; Labels = 'Id', 'Name', 'Mode', 'State', 'Tunnel', 'Streams', 'Services' }
        Jobs     = @{ Render = { Get-Job | Where-Object PSJobTypeName -eq TunnelSession }; Labels = 'Id', 'Name', 'Mode', 'State', 'Tunnel', 'Streams', 'Services' }
        Streams  = @{ Render = { Get-TunnelStream }; Labels = 'Session', 'Service', 'RemoteEndPoint', 'FromTunnel', 'ToTunnel', 'State' }
        Events   = @{ Render = { Receive-Job $s -Keep }; Labels = 'Time', 'Session', 'Event', 'Service', 'RemoteEndPoint', 'FromTunnel', 'ToTunnel' }
        Tunnels  = @{ Render = { $t }; Labels = 'TunnelId', 'Services', 'Open', 'Source', 'Destination' }
        Services = @{ Render = { Get-LocalTunnelService }; Labels = 'Endpoint', 'Tls', 'MaxProtocol', 'OpenTunnels', 'Running', 'StartedAt' }
        Agents   = @{ Render = { $agent }; Labels = 'Id', 'Name', 'Mode', 'State', 'Tunnel', 'Streams', 'Services' }
    }
}

AfterAll {
    $client.Dispose()
    $agent | Stop-Job
    $agent | Remove-Job
    Get-TunnelSession | Stop-TunnelSession -PassThru | Remove-Job
    Stop-LocalTunnelService -All -Confirm:$false
    $echo.Dispose()
}

Describe 'Default table views' {
    It 'renders the <View> table at <Width> columns with every header whole' -ForEach @(
        foreach ($view in 'Sessions', 'Jobs', 'Streams', 'Events', 'Tunnels', 'Services', 'Agents') { foreach ($width in 80, 120) { @{ View = $view; Width = $width } } }
    ) {
        $text = & $views[$View].Render | Out-String -Width $Width
        $table = Get-RenderedTable $text
        $table.Labels | Should -Be $views[$View].Labels -Because "every column is shown, none cut below its header:`n$text"
        $table.Rows.Count | Should -BeGreaterThan 0
        foreach ($line in $table.Lines) { $line.TrimEnd().Length | Should -BeLessOrEqual $Width }
    }

    It 'shows default session names whole at 120 columns in <View>' -ForEach @(
        @{ View = 'Sessions' }, @{ View = 'Jobs' }, @{ View = 'Streams' }
    ) {
        $text = & $views[$View].Render | Out-String -Width 120
        $d.Name | Should -Match '^Destination-'
        $text | Should -Match ([regex]::Escape($d.Name))
        $text | Should -Match ([regex]::Escape($s.Name))
    }

    It 'shows the session name and the whole client end point in Receive-Job at 120 columns' {
        $text = Receive-Job $s -Keep | Out-String -Width 120
        $event = Receive-Job $s -Keep | Select-Object -First 1
        $text | Should -Match ([regex]::Escape($s.Name))
        $text | Should -Match ([regex]::Escape($event.RemoteEndPoint))
        $event.RemoteEndPoint | Should -Match '^127\.0\.0\.1:\d+$' -Because 'an IPv4 peer shows as a.b.c.d:port, not [::ffff:a.b.c.d]:port'
    }

    It 'shows the Secure Tunneling API line of a local service whole at 80 columns' {
        $text = $agentService | Out-String -Width 80
        $text | Should -Match "$([regex]::Escape($agentService.EnvironmentLine))\s*(\r?\n|$)" -Because "the line to paste is on one line:`n$text"
    }

    It 'shows the agent thing name whole at 120 columns' {
        $agent | Out-String -Width 120 | Should -Match 'device-with-a-long-name-42 on '
    }

    It 'lists agents and sessions in one Get-Job table' {
        $text = Get-Job | Out-String -Width 120
        $table = Get-RenderedTable $text
        $table.Labels | Should -Be $views.Sessions.Labels
        $text | Should -Not -Match '(?m)^\w+\s+: ' -Because "no job is shown as a list:`n$text"
        $text | Should -Match "(?m)^\s*$($agent.Id) $([regex]::Escape($agent.Name))\s+Agent\s+Running\s+0/10 tunnels\s+0 "
        $text | Should -Match "(?m)^\s*$($s.Id) $([regex]::Escape($s.Name))\s+Source\s+Running\s+Connected"
    }

    It 'lists an agent with its broker, topic and counters' {
        $text = $agent | Format-List | Out-String -Width 80
        foreach ($label in 'ThingName', 'Broker', 'BrokerConnected', 'NotifyTopic', 'NotificationsReceived', 'TunnelCount', 'MaxTunnels', 'Sessions') {
            $text | Should -Match "(?m)^$label\s+:"
        }
        $text | Should -Match '(?m)^NotifyTopic\s+: \$aws/things/device-with-a-long-name-42/tunnels/notify$'
        $text | Should -Not -Match '(?m)^(Finished|Verbose|ChildJobs)\s+:'
    }

    It 'shows the ports a source listens on in the session table' {
        $text = $s | Out-String -Width 120
        $text | Should -Match "ECHO=$($s.Ports['ECHO']), SSH1=$($s.Ports['SSH1'])"
    }
}

Describe 'List views' {
    It 'lists every property of a session, the latency in milliseconds' {
        $text = $s | Format-List | Out-String -Width 80
        foreach ($label in 'Id', 'Name', 'Mode', 'State', 'TunnelState', 'Endpoint', 'TunnelId', 'Protocol', 'ChannelId', 'ServiceIds',
            'Services', 'Ports', 'StreamCount', 'Reconnects', 'Latency', 'ConnectedAt', 'BytesSent', 'BytesReceived', 'EndReason', 'EndMessage') {
            $text | Should -Match "(?m)^$label\s+:"
        }
        $text | Should -Match "(?m)^Endpoint\s+: $([regex]::Escape($s.Endpoint))$"
        $text | Should -Match '(?m)^Latency\s+: \d+\.\d{3} ms$'
    }

    It 'lists the ids, end points and close reason of a stream event' {
        $closed = Receive-Job $s -Keep | Where-Object Event -eq Closed | Select-Object -First 1
        $text = $closed | Format-List | Out-String -Width 80
        foreach ($label in 'Time', 'SessionName', 'Event', 'ServiceId', 'StreamId', 'ConnectionId', 'LocalEndPoint', 'RemoteEndPoint', 'BytesFromTunnel', 'BytesToTunnel', 'Reason') {
            $text | Should -Match "(?m)^$label\s+:"
        }
        $text | Should -Match '(?m)^BytesToTunnel\s+: 3$'
        $text | Should -Match "(?m)^Reason\s+: \S"
    }

    It 'lists a live stream with both end points' {
        $text = Get-TunnelStream -Session $s | Format-List | Out-String -Width 80
        $text | Should -Match "(?m)^LocalEndPoint\s+: 127\.0\.0\.1:$($s.Ports['ECHO'])$"
        $text | Should -Match '(?m)^RemoteEndPoint\s+: 127\.0\.0\.1:\d+$'
        $text | Should -Match '(?m)^State\s+: Open$'
    }

    It 'never shows a token in the list view of a local tunnel' {
        $text = $t | Format-List | Out-String -Width 200
        $text | Should -Not -Match ([regex]::Escape($t.SourceAccessToken))
        $text | Should -Not -Match ([regex]::Escape($t.DestinationAccessToken))
        $text | Should -Match '(?m)^SourceAccessToken\s+: \(hidden\)$'
    }
}
