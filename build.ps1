#Requires -Version 7.4
<#
.SYNOPSIS
    Builds, tests and packages the AwsTunnel module.
.DESCRIPTION
    Build   - builds the solution; the module project assembles the importable module folder
              out/AwsTunnel (manifest, format file, help, module dll and its dependencies,
              never System.Management.Automation).
    Test    - Build, then `dotnet test` (xunit, including the hosted-PowerShell tests) and,
              where Pester 5 is installed, Invoke-Pester tests/pester.
    Package - Build, then zips out/AwsTunnel into out/AwsTunnel-<version>.zip.
    Clean   - removes out/ and the bin/obj folders.
.EXAMPLE
    ./build.ps1
.EXAMPLE
    ./build.ps1 -Task Test -Configuration Release
#>
[CmdletBinding()]
param(
    [ValidateSet('Build', 'Test', 'Package', 'Clean')]
    [string[]] $Task = @('Build'),

    [ValidateSet('Debug', 'Release')]
    [string] $Configuration = 'Debug'
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

$root = $PSScriptRoot
$solution = Join-Path $root 'AwsTunnel.PowerShell.sln'
$moduleFolder = Join-Path $root 'out' 'AwsTunnel'

function Invoke-Dotnet {
    param([Parameter(ValueFromRemainingArguments)] [string[]] $Arguments)
    Write-Host "dotnet $($Arguments -join ' ')" -ForegroundColor Cyan
    & dotnet @Arguments
    if ($LASTEXITCODE -ne 0) { throw "dotnet $($Arguments[0]) failed with exit code $LASTEXITCODE." }
}

function Invoke-Clean {
    Remove-Item -Recurse -Force -ErrorAction SilentlyContinue (Join-Path $root 'out')
    Get-ChildItem -Path (Join-Path $root 'src'), (Join-Path $root 'tests'), (Join-Path $root 'bench') -Directory -Recurse -Include bin, obj -ErrorAction SilentlyContinue |
        Remove-Item -Recurse -Force
}

function Invoke-Build {
    Invoke-Dotnet build $solution --configuration $Configuration
    # The module project's AssembleModuleFolder target fills out/AwsTunnel; check what users import.
    foreach ($file in 'AwsTunnel.psd1', 'AwsTunnel.Format.ps1xml', 'AwsTunnel.PowerShell.dll', 'AwsTunnel.Engine.dll') {
        if (-not (Test-Path (Join-Path $moduleFolder $file))) { throw "The module folder lacks $file; the build did not assemble it." }
    }
    if (Test-Path (Join-Path $moduleFolder 'System.Management.Automation.dll')) {
        throw 'The module folder must not ship System.Management.Automation.dll.'
    }
    $null = Test-ModuleManifest (Join-Path $moduleFolder 'AwsTunnel.psd1')
    Write-Host "Module folder: $moduleFolder" -ForegroundColor Green
}

function Invoke-Test {
    Invoke-Dotnet test (Join-Path $root 'tests' 'unit') --configuration $Configuration --no-build
    $pester = Get-Module -ListAvailable Pester | Where-Object Version -ge '5.0.0' | Sort-Object Version -Descending | Select-Object -First 1
    if (-not $pester) {
        Write-Warning 'Pester 5 is not installed; skipping tests/pester (Install-Module Pester -MinimumVersion 5.0).'
        return
    }
    # A child pwsh, so the module loaded by the suites never locks files in this session.
    $script = "Import-Module Pester -MinimumVersion 5.0; `$c = New-PesterConfiguration; `$c.Run.Path = '$(Join-Path $root 'tests' 'pester')'; `$c.Run.Exit = `$true; `$c.Output.Verbosity = 'Detailed'; Invoke-Pester -Configuration `$c"
    & pwsh -NoProfile -NonInteractive -Command $script
    if ($LASTEXITCODE -ne 0) { throw "Pester failed ($LASTEXITCODE failing tests)." }
}

function Invoke-Package {
    $version = (Import-PowerShellDataFile (Join-Path $moduleFolder 'AwsTunnel.psd1')).ModuleVersion
    $zip = Join-Path $root 'out' "AwsTunnel-$version.zip"
    Compress-Archive -Path $moduleFolder -DestinationPath $zip -Force
    Write-Host "Package: $zip" -ForegroundColor Green
}

foreach ($t in $Task) {
    switch ($t) {
        'Clean'   { Invoke-Clean }
        'Build'   { Invoke-Build }
        'Test'    { Invoke-Build; Invoke-Test }
        'Package' { Invoke-Build; Invoke-Package }
    }
}
