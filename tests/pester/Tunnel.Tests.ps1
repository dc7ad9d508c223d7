#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }

BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSupport.ps1')
}

Describe 'A tunnel on the local tunneling service' {
    BeforeEach {
        $echo = [AwsTunnelPester.EchoServer]::new()
        $t = New-LocalTunnel -Service ECHO
        $d = $t | Start-TunnelDestination -Service "ECHO=127.0.0.1:$($echo.Port)"
        $s = $t | Start-TunnelSource -Service ECHO=0
    }

    AfterEach {
        Get-TunnelSession | Stop-TunnelSession -PassThru | Remove-Job
        Stop-LocalTunnelService -All -Confirm:$false
        $echo.Dispose()
    }

    It 'carries data from a local client to the destination target and back' {
        [AwsTunnelPester.EchoServer]::Exchange($s.Ports['ECHO'], 'hello through the tunnel') | Should -Be 'hello through the tunnel'
    }

    It 'shows the sessions in Get-Job and Get-TunnelSession' {
        (Get-Job | Where-Object PSJobTypeName -eq TunnelSession).Count | Should -Be 2
        (Get-TunnelSession -Mode Source).Id | Should -Be $s.Id
        $s.State | Should -Be 'Running'
    }

    It 'lists one stream per live connection' {
        $clients = 1..3 | ForEach-Object {
            $c = [System.Net.Sockets.TcpClient]::new('127.0.0.1', $s.Ports['ECHO'])
            $c.GetStream().Write([byte[]](1, 2, 3), 0, 3)
            $c
        }
        try {
            Wait-Until { @(Get-TunnelStream -Session $s).Count -eq 3 -and @($d | Get-TunnelStream).Count -eq 3 }
            (Get-TunnelStream -Session $s).ServiceId | Sort-Object -Unique | Should -Be 'ECHO'
        }
        finally {
            $clients.Dispose()
        }
        Wait-Until { @(Get-TunnelStream).Count -eq 0 }
    }

    It 'returns stream events from Receive-Job' {
        $null = [AwsTunnelPester.EchoServer]::Exchange($s.Ports['ECHO'], 'one')
        Wait-Until { @(Receive-Job $s -Keep | Where-Object Event -eq Closed).Count -eq 1 }
        (Receive-Job $s).Event | Should -Be @('Opened', 'Closed')
    }

    It 'stops with Stop-Job' {
        Stop-Job $s
        $s.State | Should -Be 'Stopped'
        { [System.Net.Sockets.TcpClient]::new('127.0.0.1', $s.Ports['ECHO']) } | Should -Throw
    }

    It 'completes when the tunnel is closed, and Wait-Job returns' {
        $t | Close-LocalTunnel -Confirm:$false
        $done = Wait-Job $s, $d -Timeout 20
        $done.Count | Should -Be 2
        $done.State | Should -Be @('Completed', 'Completed')
    }
}

Describe 'Pipeline binding' {
    BeforeAll {
        $echo = [AwsTunnelPester.EchoServer]::new()
    }

    AfterAll {
        Get-TunnelSession | Stop-TunnelSession -PassThru | Remove-Job
        Stop-LocalTunnelService -All -Confirm:$false
        $echo.Dispose()
    }

    It 'binds an OpenTunnelResponse-shaped object to both ends' {
        $t = New-LocalTunnel -Service ECHO
        $response = [pscustomobject]@{ TunnelId = $t.TunnelId; TunnelArn = $t.TunnelArn; SourceAccessToken = $t.SourceAccessToken; DestinationAccessToken = $t.DestinationAccessToken }
        $null = $response | Start-TunnelDestination -Endpoint $t.Endpoint -Service "ECHO=127.0.0.1:$($echo.Port)"
        $source = $response | Start-TunnelSource -Endpoint $t.Endpoint
        [AwsTunnelPester.EchoServer]::Exchange($source.Ports['ECHO'], 'bound') | Should -Be 'bound'
    }

    It 'binds a device notification payload after ConvertFrom-Json' {
        $t = New-LocalTunnel -Service ECHO
        $json = @{ clientAccessToken = $t.DestinationAccessToken; clientMode = 'destination'; region = 'us-east-1'; services = @('ECHO') } | ConvertTo-Json
        $session = $json | ConvertFrom-Json | Start-TunnelDestination -Endpoint $t.Endpoint -Service "ECHO=127.0.0.1:$($echo.Port)"
        $session.Mode | Should -Be 'Destination'
        $t.DestinationConnected | Should -BeTrue
    }
}
