@{
    RootModule           = 'AwsTunnel.PowerShell.dll'
    ModuleVersion        = '0.1.0'
    GUID                 = '07083696-6ab6-4609-ba90-197cd300367d'
    Author               = 'AwsTunnel contributors'
    CompanyName          = 'AwsTunnel contributors'
    Copyright            = 'Copyright (c) AwsTunnel contributors. Apache-2.0.'
    Description          = 'AWS IoT Secure Tunneling local proxy in pure .NET: tunnel sessions as PowerShell jobs, pipeline from AWS Tools objects, and an offline local tunneling service for demos and Pester CI.'
    PowerShellVersion    = '7.4'
    CompatiblePSEditions = @('Core')
    FormatsToProcess     = @('AwsTunnel.Format.ps1xml')
    CmdletsToExport      = @(
        'Start-TunnelSource'
        'Start-TunnelDestination'
        'Start-TunnelAgent'
        'Get-TunnelSession'
        'Get-TunnelStream'
        'Stop-TunnelSession'
        'Start-LocalTunnelService'
        'Get-LocalTunnelService'
        'Stop-LocalTunnelService'
        'New-LocalTunnel'
        'Close-LocalTunnel'
        'Export-TunnelSettings'
    )
    FunctionsToExport    = @()
    AliasesToExport      = @()
    VariablesToExport    = @()
    PrivateData          = @{
        PSData = @{
            Tags         = @('AWS', 'IoT', 'SecureTunneling', 'Tunnel', 'LocalProxy', 'SSH', 'PSEdition_Core', 'Windows', 'Linux', 'MacOS')
            ReleaseNotes = 'First release: Start-TunnelSource/Destination as jobs, local tunneling service, stream objects.'
        }
    }
}
