#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }

BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSupport.ps1')
    $t = New-LocalTunnel -Service ECHO
}

AfterAll {
    Stop-LocalTunnelService -All -Confirm:$false
}

Describe 'Start errors' {
    It 'reports -Service <Service> as InvalidService' -ForEach @(
        @{ Service = 'ECHO=' }
        @{ Service = '=22' }
        @{ Service = 'ECHO=99999' }
    ) {
        { $t | Start-TunnelSource -Service $Service } |
            Should -Throw -ErrorId 'InvalidService,AwsTunnel.PowerShell.Commands.StartTunnelSourceCommand'
    }

    It 'reports a wrong token as HandshakeRejected without showing it' {
        $token = 'wrongtoken0123456789wrongtoken0123456789'
        $err = { Start-TunnelSource -AccessToken $token -Endpoint $t.Endpoint } |
            Should -Throw -ErrorId 'HandshakeRejected,AwsTunnel.PowerShell.Commands.StartTunnelSourceCommand' -PassThru
        $err.CategoryInfo.Category | Should -Be 'AuthenticationError'
        "$err" | Should -Not -Match $token
    }

    It 'reports a service the tunnel does not have as ServiceMismatch' {
        { $t | Start-TunnelSource -Service SSH1=0 } |
            Should -Throw -ErrorId 'ServiceMismatch,AwsTunnel.PowerShell.Commands.StartTunnelSourceCommand'
    }

    It 'reports a destination without targets as InvalidService' {
        { $t | Start-TunnelDestination } |
            Should -Throw -ErrorId 'InvalidService,AwsTunnel.PowerShell.Commands.StartTunnelDestinationCommand'
    }
}
