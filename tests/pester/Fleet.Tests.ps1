#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }
# The README's fleet script, taken from README.md as it stands, run with 20 tunnels on the local
# tunneling service. Each "device" is a destination in this process forwarding to an echo server.

BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSupport.ps1')
    $readme = Get-Content -Raw (Join-Path $PSScriptRoot '..' '..' 'README.md')
    $block = [regex]::Match($readme, '(?s)```powershell\r?\n(# fleet\.ps1\r?\n.*?)```')
    if (-not $block.Success) { throw 'README.md has no ```powershell block starting with "# fleet.ps1".' }
    $fleet = Join-Path $TestDrive 'fleet.ps1'
    Set-Content -Path $fleet -Value $block.Groups[1].Value

    $echo = [AwsTunnelPester.EchoServer]::new()
    # The device side: a local tunnel whose destination forwards to the echo server.
    $openTunnel = {
        param($thing, $service)
        $tunnel = New-LocalTunnel -Service $service
        $null = $tunnel | Start-TunnelDestination -Service "$service=127.0.0.1:$($echo.Port)" -Name "device-$thing"
        $tunnel
    }.GetNewClosure()
}

AfterAll {
    Get-TunnelSession | Stop-TunnelSession -PassThru | Remove-Job
    Stop-LocalTunnelService -All -Confirm:$false
    $echo.Dispose()
}

Describe 'The README fleet script' {
    It 'runs a command over 20 tunnels, collects every result and stops every session it started' {
        $things = 1..20 | ForEach-Object { "dev$_" }
        $results = & $fleet -Thing $things -OpenTunnel $openTunnel -Command {
            param($thing, $port)
            [AwsTunnelPester.EchoServer]::Exchange($port, "uptime on $thing")
        }

        $results.Count | Should -Be 20
        ($results.Thing | Sort-Object) | Should -Be ($things | Sort-Object)
        foreach ($r in $results) {
            $r.Error | Should -BeNullOrEmpty
            $r.Result | Should -Be "uptime on $($r.Thing)"
        }
        @($results.Port | Sort-Object -Unique).Count | Should -Be 20
        @(Get-TunnelSession -Name fleet-*).Count | Should -Be 0 -Because 'the script stops and removes its sessions'
        @(Get-TunnelSession -Name device-* -State Running).Count | Should -Be 20
    }

    It 'reports a failing command per device and still stops everything' {
        $results = & $fleet -Thing 'ok1', 'bad', 'ok2' -OpenTunnel $openTunnel -Command {
            param($thing, $port)
            if ($thing -eq 'bad') { throw "no shell on $thing" }
            [AwsTunnelPester.EchoServer]::Exchange($port, $thing)
        }
        ($results | Where-Object Thing -eq bad).Error | Should -Match 'no shell on bad'
        ($results | Where-Object Thing -eq ok2).Result | Should -Be 'ok2'
        @(Get-TunnelSession -Name fleet-*).Count | Should -Be 0
    }
}
