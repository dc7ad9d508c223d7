#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }
# The local service's IoT Secure Tunneling API, driven from Pester with Invoke-RestMethod the way
# AWS Tools and the AWS CLI call it (POST /, X-Amz-Target, AWS JSON 1.1): a script under test
# that opens its tunnels through the API runs unchanged against the local service.

BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSupport.ps1')

    $service = Start-LocalTunnelService

    # One Secure Tunneling API call; the service accepts unsigned calls unless started with -AccessKeyId.
    function Invoke-TunnelingApi {
        param([string] $Operation, [hashtable] $Body = @{})
        Invoke-RestMethod -Method Post -Uri $service.ApiEndpoint -Body ($Body | ConvertTo-Json -Depth 5 -Compress) `
            -ContentType 'application/x-amz-json-1.1' -Headers @{ 'X-Amz-Target' = "IoTSecuredTunneling.$Operation" }
    }

    # The JSON 1.1 error of a refused call: its HTTP status, __type and message.
    function Get-TunnelingApiError {
        param([scriptblock] $Call)
        try { & $Call; throw 'The call succeeded.' }
        catch [Microsoft.PowerShell.Commands.HttpResponseException] {
            $body = $_.ErrorDetails.Message | ConvertFrom-Json
            [pscustomobject]@{ Status = [int]$_.Exception.Response.StatusCode; Type = $body.__type; Message = $body.message }
        }
    }
}

AfterAll {
    Get-TunnelSession | Stop-TunnelSession -PassThru | Remove-Job
    Stop-LocalTunnelService -All -Confirm:$false
}

Describe 'The Secure Tunneling API of the local service' {
    It 'shows its endpoint and the environment line for AWS Tools and the AWS CLI' {
        $service.ApiEndpoint | Should -Match '^http://127\.0\.0\.1:\d+/$'
        $service.EnvironmentLine | Should -Be "`$env:AWS_ENDPOINT_URL_IOTSECURETUNNELING = '$($service.ApiEndpoint)'"
        ($service | Out-String -Width 200) | Should -Match ([regex]::Escape($service.EnvironmentLine))
    }

    It 'opens a tunnel whose tokens connect both ends, describes it CONNECTED, and closes it' {
        $echo = [AwsTunnelPester.EchoServer]::new()
        try {
            $tunnel = Invoke-TunnelingApi OpenTunnel @{ destinationConfig = @{ thingName = 'pump-7'; services = @('ECHO') } }
            $d = $tunnel | Start-TunnelDestination -Endpoint $service.Endpoint -Service "ECHO=127.0.0.1:$($echo.Port)"
            $s = $tunnel | Start-TunnelSource -Endpoint $service.Endpoint -Service ECHO=0

            [AwsTunnelPester.EchoServer]::Exchange($s.Ports['ECHO'], 'opened by the API') | Should -Be 'opened by the API'
            $described = (Invoke-TunnelingApi DescribeTunnel @{ tunnelId = $tunnel.tunnelId }).tunnel
            $described.sourceConnectionState.status | Should -Be 'CONNECTED'
            $described.destinationConnectionState.status | Should -Be 'CONNECTED'
            $described.destinationConfig.thingName | Should -Be 'pump-7'
            ((Get-LocalTunnelService).Tunnels | Where-Object TunnelId -eq $tunnel.tunnelId).ThingName | Should -Be 'pump-7'

            Invoke-TunnelingApi CloseTunnel @{ tunnelId = $tunnel.tunnelId } | Out-Null
            Wait-Until { $s.State -eq 'Completed' -and $d.State -eq 'Completed' } -TimeoutSeconds 30
            (Invoke-TunnelingApi DescribeTunnel @{ tunnelId = $tunnel.tunnelId }).tunnel.status | Should -Be 'CLOSED'
        }
        finally {
            $echo.Dispose()
        }
    }

    It 'lists tunnels opened by New-LocalTunnel and by the API alike' {
        $local = New-LocalTunnel -Service SSH
        $viaApi = Invoke-TunnelingApi OpenTunnel

        $ids = (Invoke-TunnelingApi ListTunnels @{ maxResults = 2 }).tunnelSummaries.tunnelId
        $ids | Should -Be @($viaApi.tunnelId, $local.TunnelId)
        (Get-LocalTunnelService).Tunnels.TunnelId | Should -Contain $viaApi.tunnelId
    }

    It 'answers bad input with a JSON 1.1 error: <Case>' -ForEach @(
        @{ Case = 'an out-of-range timeout'; Operation = 'OpenTunnel'; Body = @{ timeoutConfig = @{ maxLifetimeTimeoutMinutes = 721 } }; Status = 400; Type = 'ValidationException' }
        @{ Case = 'an unknown tunnel'; Operation = 'DescribeTunnel'; Body = @{ tunnelId = 'no-such-tunnel' }; Status = 400; Type = 'ResourceNotFoundException' }
        @{ Case = 'an unknown operation'; Operation = 'OpenTunnels'; Body = @{}; Status = 400; Type = 'UnknownOperationException' }
    ) {
        $err = Get-TunnelingApiError { Invoke-TunnelingApi $Operation $Body }
        $err.Status | Should -Be $Status
        $err.Type | Should -Be $Type
        $err.Message | Should -Not -BeNullOrEmpty
    }

    It 'answers a GET without a WebSocket upgrade with a JSON 1.1 error' {
        $err = Get-TunnelingApiError { Invoke-RestMethod -Uri $service.ApiEndpoint }
        $err.Status | Should -Be 405
        $err.Type | Should -Be 'MethodNotAllowedException'
    }
}
