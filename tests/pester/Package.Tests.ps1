#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }
# The package build.ps1 makes (out/package/AwsTunnel.<version>.nupkg), installed as a user would:
# Install-PSResource from a local file repository, then Import-Module by name in a fresh pwsh.
# Both child pwsh run with their own HOME, so the repository registration and the installed module
# never touch this user's, and no module folder of this repository is on their PSModulePath.

BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSupport.ps1')
    $version = (Import-PowerShellDataFile (Join-Path $ModuleFolder 'AwsTunnel.psd1')).ModuleVersion
    $package = Join-Path $PSScriptRoot '..' '..' 'out' 'package' "AwsTunnel.$version.nupkg"
    if (-not (Test-Path $package)) { throw "No package at $package. Run ./build.ps1 -Task Package (the Test task packs too)." }

    $repository = Join-Path $TestDrive 'repository'
    $null = New-Item -ItemType Directory $repository
    Copy-Item $package $repository
    $isolated = @{ HOME = (Join-Path $TestDrive 'home'); XDG_DATA_HOME = $null; XDG_CONFIG_HOME = $null; XDG_CACHE_HOME = $null; PSModulePath = $null; AWSTUNNEL_MODULE_PATH = $null }
    $null = New-Item -ItemType Directory $isolated.HOME

    $install = Invoke-ChildPwsh -Environment $isolated -Script @"
`$ErrorActionPreference = 'Stop'
Register-PSResourceRepository -Name AwsTunnelLocal -Uri '$repository' -Trusted
Install-PSResource -Name AwsTunnel -Repository AwsTunnelLocal -Scope CurrentUser -TrustRepository -Quiet
`$installed = Get-InstalledPSResource -Name AwsTunnel
"installed: `$(`$installed.Name) `$(`$installed.Version) `$(`$installed.InstalledLocation)"
"@
    $use = Invoke-ChildPwsh -Environment $isolated -Script @'
$ErrorActionPreference = 'Stop'
Import-Module AwsTunnel
$module = Get-Module AwsTunnel
"module: $($module.Version) $($module.ModuleBase)"
"cmdlets: $(@($module.ExportedCmdlets.Keys).Count)"
"help: $((Get-Help Start-TunnelSource).Synopsis)"
$tunnel = New-LocalTunnel -Service ECHO
$session = $tunnel | Start-TunnelSource -Service ECHO=0
"session: $($session.State) $($session.TunnelState)"
"table: $(($session | Out-String -Width 80) -split "`n" | Where-Object { $_ -match '^\s*Id\s+Name' })"
$session | Stop-TunnelSession -PassThru | Remove-Job
Stop-LocalTunnelService -All -Confirm:$false
'@
}

Describe 'The published package' {
    It 'is a PowerShell Gallery package of the module with its manifest data' {
        Add-Type -AssemblyName System.IO.Compression.FileSystem
        $zip = [System.IO.Compression.ZipFile]::OpenRead($package)
        try {
            $names = $zip.Entries.FullName
            $nuspec = [xml]([System.IO.StreamReader]::new($zip.GetEntry('AwsTunnel.nuspec').Open()).ReadToEnd())
        }
        finally { $zip.Dispose() }
        foreach ($file in 'AwsTunnel.psd1', 'AwsTunnel.Format.ps1xml', 'AwsTunnel.PowerShell.dll', 'AwsTunnel.Engine.dll', 'en-US/AwsTunnel.PowerShell.dll-Help.xml', 'LICENSE') {
            $names | Should -Contain $file
        }
        $names | Should -Not -Contain 'System.Management.Automation.dll'
        $nuspec.package.metadata.id | Should -Be 'AwsTunnel'
        $nuspec.package.metadata.version | Should -Be $version
        $nuspec.package.metadata.tags | Should -Match '\bPSModule\b'
        $nuspec.package.metadata.description | Should -Not -BeNullOrEmpty
        $nuspec.package.metadata.projectUrl | Should -BeNullOrEmpty -Because 'no invented project address'
    }

    It 'installs with Install-PSResource from a local repository' {
        $install.ExitCode | Should -Be 0 -Because $install.Error
        $install.Output | Should -Contain "installed: AwsTunnel $version $(Join-Path $isolated.HOME '.local' 'share' 'powershell' 'Modules')"
    }

    It 'imports by name in a fresh pwsh, from where it was installed, and works' {
        $use.ExitCode | Should -Be 0 -Because $use.Error
        $use.Output | Should -Contain "module: $version $(Join-Path $isolated.HOME '.local' 'share' 'powershell' 'Modules' 'AwsTunnel' $version)"
        $expected = @(Get-Command -Module AwsTunnel -CommandType Cmdlet).Count
        $use.Output | Should -Contain "cmdlets: $expected"
        $use.Output | Should -Contain "help: $((Get-Help Start-TunnelSource).Synopsis)"
        $use.Output | Should -Contain 'session: Running Connected'
        ($use.Output | Where-Object { $_ -like 'table:*' }) | Should -Match 'Id\s+Name\s+Mode\s+State\s+Tunnel\s+Streams\s+Services'
    }
}
