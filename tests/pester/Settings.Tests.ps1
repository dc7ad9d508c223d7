#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }

# Export-TunnelSettings, and -SettingsPath, -Setting, -ConfigDirectory, -Proxy,
# -ProxyCredential and -NoProxy on the Start cmdlets.

BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSupport.ps1')
    $echo = [AwsTunnelPester.EchoServer]::new()

    function Get-FreePort {
        $listener = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
        $listener.Start()
        try { $listener.LocalEndpoint.Port } finally { $listener.Stop() }
    }

    # Debian's tinyproxy on a free loopback port, with Basic authentication.
    function Start-TestProxy {
        param([string] $Folder, [string] $User, [string] $Password)
        $exe = @('/usr/bin/tinyproxy', '/usr/sbin/tinyproxy', '/usr/local/bin/tinyproxy') + @(Get-Command tinyproxy -ErrorAction Ignore | ForEach-Object Source) |
            Where-Object { $_ -and (Test-Path $_) } | Select-Object -First 1
        if (-not $exe) { throw 'tinyproxy must be installed for the web proxy tests (Debian: apt-get install -y tinyproxy).' }
        $port = Get-FreePort
        $config = Join-Path $Folder 'tinyproxy.conf'
        @(
            "Port $port", 'Listen 127.0.0.1', 'Timeout 30', 'Allow 127.0.0.1', 'MaxClients 50', 'LogLevel Info'
            "LogFile `"$(Join-Path $Folder 'tinyproxy.log')`"", "PidFile `"$(Join-Path $Folder 'tinyproxy.pid')`""
            "BasicAuth $User $Password"
        ) -join "`n" | Set-Content -Path $config -NoNewline
        $process = Start-Process -FilePath $exe -ArgumentList '-d', '-c', $config -PassThru
        Wait-Until {
            $probe = [System.Net.Sockets.TcpClient]::new()
            try { $probe.Connect([System.Net.IPAddress]::Loopback, $port); $true } catch { $false } finally { $probe.Dispose() }
        }
        [pscustomobject]@{ Process = $process; Port = $port; Uri = [uri]"http://127.0.0.1:$port"; Log = (Join-Path $Folder 'tinyproxy.log') }
    }
}

AfterAll {
    Get-TunnelSession | Stop-TunnelSession -ErrorAction Ignore
    Stop-LocalTunnelService -All -Confirm:$false
    $echo.Dispose()
}

Describe 'Export-TunnelSettings' {
    It 'writes every key and returns the file with -PassThru' {
        $path = Join-Path $TestDrive 'lpsettings.json'
        $file = Export-TunnelSettings -Path $path -PassThru
        $file.FullName | Should -Be $path
        $text = Get-Content $path -Raw
        $text | Should -Match '"tunneling"'
        $text | Should -Match '"max_active_connections"'
        $text | Should -Match '"ping_period_ms"'
    }

    It 'applies -Setting overrides' {
        $path = Join-Path $TestDrive 'custom.json'
        Export-TunnelSettings -Path $path -Setting @{ 'websocket.ping_period_ms' = 12345 }
        Get-Content $path -Raw | Should -Match '"12345"'
    }

    It 'writes nothing with -WhatIf' {
        $path = Join-Path $TestDrive 'whatif.json'
        Export-TunnelSettings -Path $path -WhatIf
        Test-Path $path | Should -BeFalse
    }
}

Describe 'Settings on the Start cmdlets' {
    BeforeEach {
        $t = New-LocalTunnel -Service ECHO
    }

    AfterEach {
        Get-TunnelSession | Stop-TunnelSession -ErrorAction Ignore
    }

    It 'reports a malformed value in -SettingsPath as InvalidSettings naming the key' {
        $path = Join-Path $TestDrive 'bad.json'
        '{ "tunneling": { "proxy": { "tcp": { "max_active_connections": "lots" } } } }' | Set-Content $path
        $err = { $t | Start-TunnelSource -Service ECHO=0 -SettingsPath $path } |
            Should -Throw -ErrorId 'InvalidSettings,AwsTunnel.PowerShell.Commands.StartTunnelSourceCommand' -PassThru
        $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
        "$err" | Should -Match 'max_active_connections'
        "$err" | Should -Not -Match ([regex]::Escape($t.SourceAccessToken))
    }

    It 'reports an unknown -Setting key as InvalidSettings' {
        { $t | Start-TunnelSource -Service ECHO=0 -Setting @{ 'websocket.no_such_key' = 1 } } |
            Should -Throw -ErrorId 'InvalidSettings,AwsTunnel.PowerShell.Commands.StartTunnelSourceCommand'
    }

    It 'applies a -Setting override: tcp.max_active_connections = 1 refuses a second connection' {
        $null = $t | Start-TunnelDestination -Service "ECHO=127.0.0.1:$($echo.Port)"
        $s = $t | Start-TunnelSource -Service ECHO=0 -Setting @{ 'tcp.max_active_connections' = 1 }
        $port = $s.Ports['ECHO']
        $first = [System.Net.Sockets.TcpClient]::new()
        try {
            $first.Connect([System.Net.IPAddress]::Loopback, $port)
            $stream = $first.GetStream()
            $stream.Write([byte[]](65), 0, 1)
            $buffer = [byte[]]::new(1)
            $first.ReceiveTimeout = 10000
            $stream.Read($buffer, 0, 1) | Should -Be 1
            # The second connection is accepted, then closed by the session: no echo comes back.
            $reply = try { [AwsTunnelPester.EchoServer]::Exchange($port, 'second') } catch { '' }
            $reply | Should -Not -Be 'second'
        }
        finally {
            $first.Dispose()
        }
    }

    It 'runs a destination from -ConfigDirectory without -Service' {
        $dir = Join-Path $TestDrive 'config'
        $null = New-Item -ItemType Directory -Path $dir -Force
        "ECHO=127.0.0.1:$($echo.Port)" | Set-Content (Join-Path $dir 'services.ini')
        $null = $t | Start-TunnelDestination -ConfigDirectory $dir
        $s = $t | Start-TunnelSource -Service ECHO=0
        [AwsTunnelPester.EchoServer]::Exchange($s.Ports['ECHO'], 'from the config dir') | Should -Be 'from the config dir'
    }

    It 'rejects -Proxy with -NoProxy' {
        { $t | Start-TunnelSource -Service ECHO=0 -Proxy http://127.0.0.1:3128 -NoProxy } |
            Should -Throw -ErrorId 'InvalidProxy,AwsTunnel.PowerShell.Commands.StartTunnelSourceCommand'
    }

    It 'connects through a real proxy with -Proxy and -ProxyCredential' {
        $password = 's3cret-proxy-pass'
        $proxy = Start-TestProxy -Folder $TestDrive -User tunnel -Password $password
        try {
            $cred = [pscredential]::new('tunnel', [System.Net.NetworkCredential]::new('', $password).SecurePassword)
            $null = $t | Start-TunnelDestination -Service "ECHO=127.0.0.1:$($echo.Port)" -NoProxy
            $s = $t | Start-TunnelSource -Service ECHO=0 -Proxy $proxy.Uri -ProxyCredential $cred
            [AwsTunnelPester.EchoServer]::Exchange($s.Ports['ECHO'], 'via the proxy') | Should -Be 'via the proxy'
            Get-Content $proxy.Log -Raw | Should -Match 'CONNECT'
        }
        finally {
            Stop-Process -Id $proxy.Process.Id -ErrorAction Ignore
        }
    }
}
