#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }

BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSupport.ps1')

    # The README's offline device-side flow, as written there (between <!-- agent-flow --> and the end of its code block).
    $readme = Get-Content -Raw (Join-Path $PSScriptRoot '..' '..' 'README.md')
    $match = [regex]::Match($readme, '<!-- agent-flow -->\s*```powershell\r?\n(?<code>.*?)```', 'Singleline')
    if (-not $match.Success) { throw 'README.md has no <!-- agent-flow --> PowerShell block.' }
    # The module is imported by TestSupport.ps1 from the build's folder.
    $script:Flow = ($match.Groups['code'].Value -split '\r?\n' | Where-Object { $_ -notmatch '^\s*Import-Module ' }) -join "`n"
}

Describe "The README's offline device-side flow" {
    BeforeEach {
        $echo = [AwsTunnelPester.EchoServer]::new()
    }

    AfterEach {
        Get-Job | Where-Object PSJobTypeName -in 'TunnelAgent', 'TunnelSession' | Remove-Job -Force
        Stop-LocalTunnelService -All -Confirm:$false
        $echo.Dispose()
    }

    It 'goes from opening the tunnel through the agent starting the destination to a source and ssh' {
        $SshPort = $echo.Port
        $observed = @{}
        # Stands in for ssh: what it sends comes back from the echo server behind the agent's destination.
        # Called as: ssh -p PORT user@localhost.
        function ssh {
            $args[0] | Should -Be '-p'
            # The service sees the WebSocket before the agent lists the session (once its start returns).
            Wait-Until { $tunnel.DestinationConnected -and @(Get-TunnelSession | Where-Object Agent -eq $agent.Name).Count -ge 1 } -TimeoutSeconds 30
            $observed.Target = $args[2]
            $observed.Reply = [AwsTunnelPester.EchoServer]::Exchange([int] $args[1], 'SSH-2.0-AwsTunnel')
        }

        $output = . ([scriptblock]::Create($script:Flow))

        $observed.Reply | Should -Be 'SSH-2.0-AwsTunnel'
        $observed.Target | Should -Be 'user@localhost'
        $service.NotificationsPublished | Should -Be 1
        $agent.PSJobTypeName | Should -Be 'TunnelAgent'
        $agent.State | Should -Be 'Stopped'
        $child = Get-TunnelSession | Where-Object Agent -eq $agent.Name
        $child.Mode | Should -Be 'Destination'
        $child.TunnelId | Should -Be $tunnel.TunnelId
        $child.State | Should -Be 'Stopped'
        $agent.ChildJobs.Count | Should -Be 1
        $source.State | Should -Be 'Running'
        # The flow's Get-TunnelSession lists the destination if it was already up, else nothing.
        @($output | Where-Object { $_ -is [System.Management.Automation.Job] } | Where-Object Name -ne 'agent-dev42:SSH').Count | Should -Be 0
    }

    It 'never shows a token in the agent''s or its sessions'' streams' {
        $service = Start-LocalTunnelService -MqttBroker Embedded
        $agent = $service | Start-TunnelAgent -ThingName dev42 -Service "SSH=127.0.0.1:$($echo.Port)" -Verbose
        $tunnel = New-LocalTunnel -Service SSH -ThingName dev42
        $skipped = New-LocalTunnel -Service NOPE -ThingName dev42
        Wait-Until { $tunnel.DestinationConnected -and $agent.NotificationsSkipped -eq 1 } -TimeoutSeconds 30
        # The log reaches the job's streams after the counter moves: wait for the line itself.
        Wait-Until { (@($agent | Receive-Job -Keep *>&1) | Out-String) -match 'no target for NOPE' } -TimeoutSeconds 30
        $text = @($agent | Receive-Job -Keep *>&1) + @(Get-TunnelSession | Receive-Job -Keep *>&1) | Out-String
        $text | Should -Match 'no target for NOPE'
        foreach ($token in $tunnel.DestinationAccessToken, $tunnel.SourceAccessToken, $skipped.DestinationAccessToken) {
            $text.Contains($token) | Should -BeFalse
        }
    }
}
