#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }
# Get-Help for every exported cmdlet, and every help example run as written against the local
# tunneling service. A cmdlet added later is covered by the same tests: they enumerate the module.
#
# Each example runs in its own scope and working folder, with $ErrorActionPreference = 'Stop'
# (any error fails it) and $ConfirmPreference = 'None' (the user answers Yes), in a world that has:
# - the default local service $service, and on it $tunnel (services SSH1 and HTTP) with a
#   destination and a running source named 'web' ($session);
# - what the AWS-side examples start from, standing in for what is outside this machine:
#   Open-IOTSTTunnel (AWS.Tools.IoT) returns a local tunnel in the shape of its response,
#   $message is a device's MQTT notification payload, $env:SOURCE_TOKEN a source token, and
#   $PSDefaultParameterValues points the Start cmdlets at the local service instead of the region's;
#   `ssh -p PORT user@host` connects to the port and disconnects;
# - ./partial.json, a settings file;
# - the listening ports the examples name (5555, 8080, 8443) replaced by free ones.

BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'TestSupport.ps1')
    $cmdlets = @(Get-Command -Module AwsTunnel -CommandType Cmdlet | Sort-Object Name | ForEach-Object { @{ Name = $_.Name } })
    $examples = @(foreach ($cmdlet in $cmdlets) {
            $number = 0
            foreach ($example in @((Get-Help $cmdlet.Name -Full).Examples.Example)) {
                $number++
                @{ Name = $cmdlet.Name; Number = $number; Code = ($example.Code -join "`n") }
            }
        })
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSupport.ps1')

    # The ports examples listen on, replaced by free ones so a run never depends on what else is listening.
    function ConvertTo-FreePorts {
        param([string] $Code)
        foreach ($port in 5555, 8080, 8443) {
            $listener = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
            $listener.Start()
            $free = $listener.LocalEndpoint.Port
            $listener.Stop()
            $Code = $Code -replace "\b$port\b", $free
        }
        $Code
    }

    function Invoke-HelpExample {
        param([string] $Code, [string] $Folder)
        $echo = [AwsTunnelPester.EchoServer]::new()
        $savedToken = $env:SOURCE_TOKEN
        $savedRegion = $env:AWSIOT_TUNNEL_REGION
        Push-Location $Folder
        try {
            $service = Start-LocalTunnelService
            $tunnel = New-LocalTunnel -Service SSH1, HTTP
            $null = $tunnel | Start-TunnelDestination -Service 'SSH1=127.0.0.1:22', "HTTP=127.0.0.1:$($echo.Port)"
            $session = $tunnel | Start-TunnelSource -Service SSH1=0, HTTP=0 -Name web
            $null = [AwsTunnelPester.EchoServer]::Exchange($session.Ports['HTTP'], 'GET /')

            $notified = New-LocalTunnel -Service SSH1
            $message = @{ clientAccessToken = $notified.DestinationAccessToken; clientMode = 'destination'; region = 'us-east-1'; services = @('SSH1') } | ConvertTo-Json
            $env:SOURCE_TOKEN = (New-LocalTunnel -Service SSH1, HTTP).SourceAccessToken
            Export-TunnelSettings -Path ./partial.json -Setting @{ 'websocket.ping_period_ms' = 5000 }

            $example = [scriptblock]::Create($Code)
            # A child scope: what the example defines stays in it.
            $output = & {
                $ErrorActionPreference = 'Stop'
                $ConfirmPreference = 'None'
                $PSDefaultParameterValues = @{ 'Start-Tunnel*:Endpoint' = $service.Endpoint }
                function Open-IOTSTTunnel {
                    param([string] $DestinationConfig_ThingName, [string[]] $DestinationConfig_Service)
                    $t = New-LocalTunnel -Service $DestinationConfig_Service
                    [pscustomobject]@{ TunnelId = $t.TunnelId; TunnelArn = $t.TunnelArn; SourceAccessToken = $t.SourceAccessToken; DestinationAccessToken = $t.DestinationAccessToken }
                }
                function ssh {
                    param([int] $p, [Parameter(ValueFromRemainingArguments)] [string[]] $Target)
                    $client = [System.Net.Sockets.TcpClient]::new('127.0.0.1', $p)
                    $client.Dispose()
                    "ssh: connected to port $p"
                }
                . $example
            }
            # Rendered as a user sees it, so a view that fails to format fails the example too.
            $null = $output | Out-String
            $output
        }
        finally {
            Pop-Location
            Get-TunnelSession | Stop-TunnelSession -PassThru | Remove-Job
            Stop-LocalTunnelService -All -Confirm:$false
            $echo.Dispose()
            $env:SOURCE_TOKEN = $savedToken
            $env:AWSIOT_TUNNEL_REGION = $savedRegion
        }
    }
}

AfterAll {
    Get-TunnelSession | Stop-TunnelSession -PassThru | Remove-Job
    Stop-LocalTunnelService -All -Confirm:$false
}

Describe 'Get-Help' {
    It 'documents <Name> with a synopsis, a description, every parameter and at least two examples' -ForEach $cmdlets {
        $help = Get-Help $Name -Full
        $help.Synopsis | Should -Not -BeNullOrEmpty
        $help.Synopsis | Should -Not -BeLike "*$Name *[<]CommonParameters[>]*" -Because 'a synopsis that is the syntax means no help was found'
        ($help.Description.Text -join ' ') | Should -Not -BeNullOrEmpty
        @($help.Examples.Example).Count | Should -BeGreaterOrEqual 2
        $common = [System.Management.Automation.Cmdlet]::CommonParameters + [System.Management.Automation.Cmdlet]::OptionalCommonParameters
        $shown = (Get-Command $Name).Parameters.Values | Where-Object {
            $_.Name -notin $common -and -not ($_.Attributes | Where-Object { $_ -is [System.Management.Automation.ParameterAttribute] -and $_.DontShow })
        }
        foreach ($parameter in $shown.Name) {
            $documented = @($help.Parameters.Parameter | Where-Object Name -eq $parameter)
            $documented.Count | Should -Be 1 -Because "-$parameter of $Name is in its help"
            ($documented[0].Description.Text -join ' ') | Should -Not -BeNullOrEmpty -Because "-$parameter of $Name has a description"
        }
    }

    It 'has every example of <Name> explained' -ForEach $cmdlets {
        foreach ($example in @((Get-Help $Name -Full).Examples.Example)) {
            ($example.Remarks.Text -join ' ').Trim() | Should -Not -BeNullOrEmpty -Because "example `"$($example.Code)`" says what it does"
        }
    }
}

Describe 'Help examples' {
    It 'runs example <Number> of <Name>' -ForEach $examples {
        $folder = Join-Path $TestDrive "$Name-$Number"
        $null = New-Item -ItemType Directory $folder
        { Invoke-HelpExample -Code (ConvertTo-FreePorts $Code) -Folder $folder } | Should -Not -Throw
    }
}
