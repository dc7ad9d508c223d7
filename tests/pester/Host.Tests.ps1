#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }
# What only a real pwsh shows: tab completion, -WhatIf and -Confirm, error records, the job
# cmdlets, and sessions used from other runspaces (ForEach-Object -Parallel, Start-ThreadJob).

BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSupport.ps1')
    $echo = [AwsTunnelPester.EchoServer]::new()
    $moduleManifest = (Resolve-Path (Join-Path $ModuleFolder 'AwsTunnel.psd1')).Path

    function Get-Completion {
        param([string] $Line)
        (TabExpansion2 -inputScript $Line -cursorColumn $Line.Length).CompletionMatches.CompletionText
    }

    function New-EchoPair {
        param([string] $Service = 'ECHO', [string] $Name)
        $tunnel = New-LocalTunnel -Service $Service
        $destination = $tunnel | Start-TunnelDestination -Service "$Service=127.0.0.1:$($echo.Port)"
        $source = if ($Name) { $tunnel | Start-TunnelSource -Service "$Service=0" -Name $Name } else { $tunnel | Start-TunnelSource -Service "$Service=0" }
        [pscustomobject]@{ Tunnel = $tunnel; Destination = $destination; Source = $source }
    }
}

AfterAll {
    Get-TunnelSession | Stop-TunnelSession -PassThru | Remove-Job -Force
    Stop-LocalTunnelService -All -Confirm:$false
    $echo.Dispose()
}

Describe 'Tab completion through TabExpansion2' {
    BeforeAll {
        $tunnel = New-LocalTunnel -Service SSH1, WEB
    }
    AfterAll {
        Stop-LocalTunnelService -All -Confirm:$false
    }

    It 'completes -Service of <Command> with the service ids of open local tunnels' -ForEach @(
        @{ Command = 'Start-TunnelSource' }, @{ Command = 'Start-TunnelDestination' }
    ) {
        Get-Completion "$Command -Service " | Should -Be @('SSH1=', 'WEB=')
        Get-Completion "$Command -Service W" | Should -Be @('WEB=')
    }

    It 'completes -ServiceId of Get-TunnelStream' {
        Get-Completion 'Get-TunnelStream -ServiceId S' | Should -Be @('SSH1')
    }

    It 'completes -Region with AWS regions' {
        Get-Completion 'Start-TunnelSource -Region us-ea' | Should -Be @('us-east-1', 'us-east-2')
        Get-Completion 'Start-TunnelDestination -Region eu-west-' | Should -Be @('eu-west-1', 'eu-west-2', 'eu-west-3')
    }

    It 'completes -Setting of <Command> with setting keys as a hashtable to fill in' -ForEach @(
        @{ Command = 'Start-TunnelSource' }, @{ Command = 'Export-TunnelSettings' }
    ) {
        Get-Completion "$Command -Setting websocket.ping" | Should -Be @("@{'websocket.ping_period_ms'=")
        $keys = Get-Completion "$Command -Setting tcp."
        $keys | Should -Contain "@{'tcp.max_active_connections'="
        $keys | ForEach-Object { $_ | Should -Match "^@\{'tcp\.[a-z_]+'=$" }
    }
}

Describe '-WhatIf and -Confirm' {
    AfterEach {
        Get-TunnelSession | Stop-TunnelSession -PassThru | Remove-Job
        Stop-LocalTunnelService -All -Confirm:$false
    }

    It 'Stop-TunnelSession -WhatIf leaves the session running' {
        $pair = New-EchoPair -Name fleet-1
        Stop-TunnelSession -Name 'fleet-*' -WhatIf
        $pair.Source.State | Should -Be 'Running'
        [AwsTunnelPester.EchoServer]::Exchange($pair.Source.Ports['ECHO'], 'still up') | Should -Be 'still up'
    }

    It 'Close-LocalTunnel -WhatIf leaves the tunnel open' {
        $tunnel = New-LocalTunnel -Service SSH1
        $tunnel | Close-LocalTunnel -WhatIf
        (Get-LocalTunnelService).Tunnels.IsOpen | Should -Be $true
    }

    It 'Stop-LocalTunnelService -WhatIf leaves the service running' {
        $service = Start-LocalTunnelService
        $service | Stop-LocalTunnelService -WhatIf
        $service.IsRunning | Should -BeTrue
    }

    It 'New-LocalTunnel -WhatIf opens no tunnel' {
        $service = Start-LocalTunnelService
        $result = New-LocalTunnel -Service SSH1 -WhatIf
        $result | Should -BeNullOrEmpty
        @($service.Tunnels).Count | Should -Be 0
    }

    It 'Export-TunnelSettings -WhatIf writes no file' {
        $path = Join-Path $TestDrive 'whatif.json'
        Export-TunnelSettings -Path $path -WhatIf
        Test-Path $path | Should -BeFalse
    }

    It 'Close-LocalTunnel -Confirm asks: No keeps the tunnel open, Yes closes it' {
        $run = Invoke-ChildPwsh -InputText "n`ny`n" -Script @"
Import-Module '$moduleManifest'
`$tunnel = New-LocalTunnel -Service SSH1
`$tunnel | Close-LocalTunnel -Confirm
"open after No: `$((Get-LocalTunnelService).Tunnels.IsOpen)"
`$tunnel | Close-LocalTunnel -Confirm
"open after Yes: `$((Get-LocalTunnelService).Tunnels.IsOpen)"
Stop-LocalTunnelService -All -Confirm:`$false
"@
        $run.ExitCode | Should -Be 0 -Because $run.Error
        $text = ($run.Output -join ' ') -replace '\s+', ' '
        $prompt = 'Performing the operation "Close local tunnel" on target "Tunnel [0-9a-f-]{36} \[SSH1\]'
        [regex]::Matches($text, $prompt).Count | Should -Be 2 -Because "it asks each time:`n$($run.Output -join "`n")"
        $run.Output | Should -Contain 'open after No: True'
        $run.Output | Should -Contain 'open after Yes: False'
    }
}

Describe 'Error records' {
    BeforeAll {
        $tunnel = New-LocalTunnel -Service ECHO
    }
    AfterAll {
        Get-TunnelSession | Stop-TunnelSession -PassThru | Remove-Job
        Stop-LocalTunnelService -All -Confirm:$false
    }

    It '<Case> is <ErrorId> (<Category>)' -ForEach @(
        @{ Case = 'a malformed -Service'; ErrorId = 'InvalidService,AwsTunnel.PowerShell.Commands.StartTunnelSourceCommand'; Category = 'InvalidArgument'; Run = { $tunnel | Start-TunnelSource -Service 'ECHO=99999' } }
        @{ Case = 'a wrong token'; ErrorId = 'HandshakeRejected,AwsTunnel.PowerShell.Commands.StartTunnelSourceCommand'; Category = 'AuthenticationError'; Run = { Start-TunnelSource -AccessToken ('x' * 40) -Endpoint $tunnel.Endpoint } }
        @{ Case = 'a service the tunnel lacks'; ErrorId = 'ServiceMismatch,AwsTunnel.PowerShell.Commands.StartTunnelSourceCommand'; Category = 'InvalidArgument'; Run = { $tunnel | Start-TunnelSource -Service SSH1=0 } }
        @{ Case = 'no region anywhere'; ErrorId = 'NoRegion,AwsTunnel.PowerShell.Commands.StartTunnelSourceCommand'; Category = 'InvalidArgument'; Run = { $env:AWSIOT_TUNNEL_REGION = $env:AWS_REGION = $env:AWS_DEFAULT_REGION = $null; Start-TunnelSource -AccessToken ('x' * 40) } }
        @{ Case = 'a bad setting value'; ErrorId = 'InvalidSettings,AwsTunnel.PowerShell.Commands.StartTunnelSourceCommand'; Category = 'InvalidArgument'; Run = { $tunnel | Start-TunnelSource -Setting @{ 'websocket.ping_period_ms' = 'often' } } }
        @{ Case = 'an unknown session name'; ErrorId = 'SessionNotFound,AwsTunnel.PowerShell.Commands.StopTunnelSessionCommand'; Category = 'ObjectNotFound'; Run = { Stop-TunnelSession -Name no-such-session } }
        @{ Case = 'an unknown local tunnel'; ErrorId = 'LocalTunnelNotFound,AwsTunnel.PowerShell.Commands.CloseLocalTunnelCommand'; Category = 'ObjectNotFound'; Run = { Close-LocalTunnel -TunnelId no-such-tunnel -Confirm:$false } }
    ) {
        $err = { & $Run } | Should -Throw -ErrorId $ErrorId -PassThru
        $err.CategoryInfo.Category | Should -Be $Category
        "$err" | Should -Not -BeNullOrEmpty
    }

    It 'names the busy port when a source cannot listen (PortInUse, ResourceUnavailable)' {
        $busy = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
        $busy.Start()
        try {
            $port = $busy.LocalEndpoint.Port
            $fresh = New-LocalTunnel -Service ECHO
            $err = { $fresh | Start-TunnelSource -Service "ECHO=$port" -BindAddress 127.0.0.1 } |
                Should -Throw -ErrorId 'PortInUse,AwsTunnel.PowerShell.Commands.StartTunnelSourceCommand' -PassThru
            $err.CategoryInfo.Category | Should -Be 'ResourceUnavailable'
            "$err" | Should -Match "\b$port\b"
        }
        finally { $busy.Stop() }
    }

    It 'never shows the token in a handshake error' {
        $token = 'secrettoken' * 4
        $err = { Start-TunnelSource -AccessToken $token -Endpoint $tunnel.Endpoint } | Should -Throw -PassThru
        "$err" | Should -Not -Match $token
        ($err | Format-List * -Force | Out-String) | Should -Not -Match $token
    }
}

Describe 'Receive-Job, Wait-Job and Remove-Job' {
    AfterEach {
        Get-TunnelSession | Stop-TunnelSession -PassThru | Remove-Job
        Stop-LocalTunnelService -All -Confirm:$false
    }

    It 'Receive-Job returns the stream events once, and again with -Keep' {
        $pair = New-EchoPair
        $null = [AwsTunnelPester.EchoServer]::Exchange($pair.Source.Ports['ECHO'], 'abc')
        Wait-Until { @(Receive-Job $pair.Source -Keep | Where-Object Event -eq Closed).Count -eq 1 }
        $kept = Receive-Job $pair.Source -Keep
        $kept.Event | Should -Be @('Opened', 'Closed')
        ($kept | Where-Object Event -eq Closed).BytesToTunnel | Should -Be 3
        (Receive-Job $pair.Source).Event | Should -Be @('Opened', 'Closed')
        Receive-Job $pair.Source | Should -BeNullOrEmpty
        $pair.Source.HasMoreData | Should -BeFalse
    }

    It 'Wait-Job times out on a running session and returns it once the tunnel closes' {
        $pair = New-EchoPair
        Wait-Job $pair.Source -Timeout 1 | Should -BeNullOrEmpty
        $pair.Tunnel | Close-LocalTunnel -Confirm:$false
        $done = Wait-Job $pair.Source, $pair.Destination -Timeout 30
        @($done).Count | Should -Be 2
        $pair.Source.State | Should -Be 'Completed'
    }

    It 'Wait-Job -Any returns the first session to end' {
        $one = New-EchoPair
        $two = New-EchoPair
        $one.Tunnel | Close-LocalTunnel -Confirm:$false
        $first = Wait-Job $one.Source, $two.Source -Any -Timeout 30
        $first.Id | Should -Be $one.Source.Id
        $two.Source.State | Should -Be 'Running'
    }

    It 'Remove-Job refuses a running session, and -Force stops and removes it' {
        $pair = New-EchoPair
        { Remove-Job $pair.Source -ErrorAction Stop } | Should -Throw -ErrorId 'JobObjectNotFinishedCannotBeRemoved,Microsoft.PowerShell.Commands.RemoveJobCommand'
        $pair.Source.State | Should -Be 'Running'
        Remove-Job $pair.Source -Force
        Get-Job -Id $pair.Source.Id -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        @(Get-TunnelSession | Where-Object Id -eq $pair.Source.Id).Count | Should -Be 0
        { [System.Net.Sockets.TcpClient]::new('127.0.0.1', $pair.Source.Ports['ECHO']) } | Should -Throw
    }

    It 'Stop-Job, then Receive-Job and Remove-Job, as with any job' {
        $pair = New-EchoPair
        $null = [AwsTunnelPester.EchoServer]::Exchange($pair.Source.Ports['ECHO'], 'x')
        Stop-Job $pair.Source
        $pair.Source.State | Should -Be 'Stopped'
        @(Receive-Job $pair.Source | Where-Object { $_ -is [AwsTunnel.PowerShell.TunnelStreamEvent] }).Count | Should -BeGreaterOrEqual 1
        Remove-Job $pair.Source
        Get-Job -Id $pair.Source.Id -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
    }
}

Describe 'Sessions from other runspaces' {
    AfterEach {
        Get-TunnelSession | Stop-TunnelSession -PassThru | Remove-Job
        Stop-LocalTunnelService -All -Confirm:$false
    }

    It 'uses sessions of this runspace from ForEach-Object -Parallel' {
        $pairs = 1..4 | ForEach-Object { New-EchoPair -Name "par-$_" }
        $results = $pairs.Source | ForEach-Object -ThrottleLimit 4 -Parallel {
            [pscustomobject]@{ Name = $_.Name; Echo = [AwsTunnelPester.EchoServer]::Exchange($_.Ports['ECHO'], $_.Name); State = "$($_.State)" }
        }
        ($results | Sort-Object Name).Echo | Should -Be @('par-1', 'par-2', 'par-3', 'par-4')
        $results.State | Sort-Object -Unique | Should -Be 'Running'
    }

    It 'starts tunnels inside ForEach-Object -Parallel runspaces, each with its own sessions' {
        $results = 1..3 | ForEach-Object -ThrottleLimit 3 -Parallel {
            Import-Module $using:moduleManifest
            $echoPort = $using:echo.Port
            $tunnel = New-LocalTunnel -Service ECHO
            $null = $tunnel | Start-TunnelDestination -Service "ECHO=127.0.0.1:$echoPort"
            $source = $tunnel | Start-TunnelSource -Service ECHO=0
            $reply = [AwsTunnelPester.EchoServer]::Exchange($source.Ports['ECHO'], "runspace $_")
            [pscustomobject]@{ Reply = $reply; Sessions = @(Get-TunnelSession).Count }
            Get-TunnelSession | Stop-TunnelSession -PassThru | Remove-Job
            Stop-LocalTunnelService -All -Confirm:$false
        }
        ($results.Reply | Sort-Object) | Should -Be @('runspace 1', 'runspace 2', 'runspace 3')
        $results.Sessions | Sort-Object -Unique | Should -Be 2 -Because 'Get-TunnelSession lists the sessions of its own runspace'
        @(Get-TunnelSession).Count | Should -Be 0
    }

    It 'runs a tunnel in Start-ThreadJob and gets its output back with Receive-Job' {
        $job = Start-ThreadJob -ArgumentList $moduleManifest, $echo.Port -ScriptBlock {
            param($manifest, $echoPort)
            Import-Module $manifest
            $tunnel = New-LocalTunnel -Service ECHO
            $null = $tunnel | Start-TunnelDestination -Service "ECHO=127.0.0.1:$echoPort"
            $source = $tunnel | Start-TunnelSource -Service ECHO=0
            [AwsTunnelPester.EchoServer]::Exchange($source.Ports['ECHO'], 'from a thread job')
            Get-TunnelSession | Stop-TunnelSession -PassThru | Remove-Job
            Stop-LocalTunnelService -All -Confirm:$false
        }
        $null = Wait-Job $job -Timeout 60
        $job.State | Should -Be 'Completed'
        Receive-Job $job | Should -Be 'from a thread job'
        Remove-Job $job
    }

    It 'stops a session of this runspace from Start-ThreadJob' {
        $pair = New-EchoPair
        $job = Start-ThreadJob -ArgumentList $moduleManifest, $pair.Source -ScriptBlock {
            param($manifest, $session)
            Import-Module $manifest
            $session | Stop-TunnelSession -PassThru | ForEach-Object { "$($_.State)" }
        }
        $null = Wait-Job $job -Timeout 60
        Receive-Job $job | Should -Be 'Stopped'
        Remove-Job $job
        $pair.Source.State | Should -Be 'Stopped'
        $pair.Destination.State | Should -Be 'Running'
    }
}
