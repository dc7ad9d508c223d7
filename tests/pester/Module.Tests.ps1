#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }

BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSupport.ps1')
}

Describe 'The AwsTunnel module' {
    It 'has a valid manifest' {
        $manifest = Test-ModuleManifest (Join-Path $ModuleFolder 'AwsTunnel.psd1')
        $manifest.Version | Should -Be '0.1.0'
        $manifest.PowerShellVersion | Should -Be '7.4'
        $manifest.CompatiblePSEditions | Should -Contain 'Core'
    }

    It 'exports its cmdlets' {
        (Get-Command -Module AwsTunnel).Name | Sort-Object | Should -Be @(
            'Close-LocalTunnel', 'Export-TunnelSettings', 'Get-LocalTunnelService', 'Get-TunnelSession', 'Get-TunnelStream', 'New-LocalTunnel',
            'Start-LocalTunnelService', 'Start-TunnelAgent', 'Start-TunnelDestination', 'Start-TunnelSource', 'Stop-LocalTunnelService', 'Stop-TunnelSession')
    }

    It 'shows no token in the default views of a local tunnel' {
        $tunnel = New-LocalTunnel -Service SSH1
        try {
            $table = $tunnel | Format-Table | Out-String
            $list = $tunnel | Format-List | Out-String
            "$tunnel" | Should -Not -Match ([regex]::Escape($tunnel.SourceAccessToken))
            $table | Should -Not -Match ([regex]::Escape($tunnel.SourceAccessToken))
            $list | Should -Not -Match ([regex]::Escape($tunnel.SourceAccessToken))
            $list | Should -Not -Match ([regex]::Escape($tunnel.DestinationAccessToken))
        }
        finally {
            $tunnel | Close-LocalTunnel -Confirm:$false
        }
    }

    AfterAll {
        Stop-LocalTunnelService -All -Confirm:$false
    }
}
