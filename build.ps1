#Requires -Version 7.4
<#
.SYNOPSIS
    Builds, tests and packages the AwsTunnel module.
.DESCRIPTION
    Build   - builds the solution; the module project assembles the importable module folder
              out/AwsTunnel (manifest, format file, help, module dll and its dependencies,
              never System.Management.Automation).
    Test    - Build and Package, then the xunit suite (`dotnet test`, including the hosted-PowerShell tests)
              and the Pester suites in tests/pester, run by this same pwsh with the Pester version
              pinned in build/Pester.proj (restored from NuGet). Prints one line per runner,
              "dotnet: N passed, N failed, N skipped" and "pester: ...", and fails when either runner
              failed or ran no test.
    Package - Build into a fresh out/AwsTunnel, then pack it into out/package/AwsTunnel.<version>.nupkg
              with PSResourceGet's Compress-PSResource: the package Publish-PSResource would send to
              the PowerShell Gallery. Publish it with
              Publish-PSResource -NupkgPath out/package/AwsTunnel.<version>.nupkg -Repository PSGallery -ApiKey <key>.
    Clean   - removes out/ and the bin/obj folders.

    The README's test command is `dotnet tool restore && dotnet pwsh ./build.ps1 -Task Test`:
    the pwsh is the PowerShell dotnet tool pinned in .config/dotnet-tools.json.
.EXAMPLE
    ./build.ps1
.EXAMPLE
    ./build.ps1 -Task Test -Suite Pester
.EXAMPLE
    ./build.ps1 -Task Package
#>
[CmdletBinding()]
param(
    [ValidateSet('Build', 'Test', 'Package', 'Clean')]
    [string[]] $Task = @('Build'),

    [ValidateSet('Debug', 'Release')]
    [string] $Configuration = 'Debug',

    # Which test runners the Test task runs.
    [ValidateSet('All', 'Dotnet', 'Pester')]
    [string] $Suite = 'All',

    # Pester suites to run (files or folders); default all of tests/pester. From a shell,
    # `-PesterPath a,b` arrives as one string: commas separate paths either way.
    [string[]] $PesterPath,

    # A hang guard for the Pester run (the xunit run has --blame-hang-timeout per test).
    [int] $PesterTimeoutMinutes = 30
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest
# A CI log is a file: errors and Pester's output as plain text, not colour escape codes.
if ([Console]::IsOutputRedirected) { $PSStyle.OutputRendering = 'PlainText' }

$root = $PSScriptRoot
$solution = Join-Path $root 'AwsTunnel.PowerShell.sln'
$moduleFolder = Join-Path $root 'out' 'AwsTunnel'
$resultsFolder = Join-Path $root 'out' 'test-results'

function Invoke-Dotnet {
    param([Parameter(ValueFromRemainingArguments)] [string[]] $Arguments)
    Write-Host "dotnet $($Arguments -join ' ')" -ForegroundColor Cyan
    & dotnet @Arguments | Out-Host
    if ($LASTEXITCODE -ne 0) { throw "dotnet $($Arguments[0]) failed with exit code $LASTEXITCODE." }
}

# The command line of the pwsh running this script: as a dotnet tool it is `dotnet <PSHOME>/pwsh.dll`.
function Get-PwshCommandLine {
    $exe = [Environment]::ProcessPath
    if ([IO.Path]::GetFileNameWithoutExtension($exe) -eq 'dotnet') { return @($exe, (Join-Path $PSHOME 'pwsh.dll')) }
    return @($exe)
}

function Invoke-Clean {
    Remove-Item -Recurse -Force -ErrorAction SilentlyContinue (Join-Path $root 'out')
    Get-ChildItem -Path (Join-Path $root 'src'), (Join-Path $root 'tests'), (Join-Path $root 'bench'), (Join-Path $root 'build') -Directory -Recurse -Include bin, obj -ErrorAction SilentlyContinue |
        Remove-Item -Recurse -Force
}

function Invoke-Build {
    Invoke-Dotnet build $solution --configuration $Configuration
    # The module project's AssembleModuleFolder target fills out/AwsTunnel; check what users import.
    foreach ($file in 'AwsTunnel.psd1', 'AwsTunnel.Format.ps1xml', 'AwsTunnel.PowerShell.dll', 'AwsTunnel.Engine.dll', 'en-US/AwsTunnel.PowerShell.dll-Help.xml', 'LICENSE') {
        if (-not (Test-Path (Join-Path $moduleFolder $file))) { throw "The module folder lacks $file; the build did not assemble it." }
    }
    if (Test-Path (Join-Path $moduleFolder 'System.Management.Automation.dll')) {
        throw 'The module folder must not ship System.Management.Automation.dll.'
    }
    $null = Test-ModuleManifest (Join-Path $moduleFolder 'AwsTunnel.psd1')
    Write-Host "Module folder: $moduleFolder" -ForegroundColor Green
}

# Restores the Pester pinned in build/Pester.proj and returns the path of its manifest.
function Restore-Pester {
    $project = Join-Path $root 'build' 'Pester.proj'
    Invoke-Dotnet restore $project --verbosity quiet
    $version = ([xml](Get-Content -Raw $project)).Project.PropertyGroup.PesterVersion
    $packages = if ($env:NUGET_PACKAGES) { $env:NUGET_PACKAGES } else {
        $line = & dotnet nuget locals global-packages --list
        if ($LASTEXITCODE -ne 0) { throw 'dotnet nuget locals global-packages --list failed.' }
        ($line -replace '^global-packages:\s*', '').Trim()
    }
    $manifest = Join-Path $packages 'pester' $version 'tools' 'Pester.psd1'
    if (-not (Test-Path $manifest)) { throw "Pester $version was restored, but $manifest is missing." }
    return $manifest
}

# Runs the xunit suite; returns its counts, summed from the TRX files it writes.
function Invoke-DotnetTests {
    $folder = Join-Path $resultsFolder 'dotnet'
    Remove-Item -Recurse -Force -ErrorAction SilentlyContinue $folder
    Write-Host "dotnet test $solution" -ForegroundColor Cyan
    & dotnet test $solution --configuration $Configuration --no-build --blame-hang-timeout 5m --logger trx --results-directory $folder | Out-Host
    $exitCode = $LASTEXITCODE
    $counts = [ordered]@{ Runner = 'dotnet'; Passed = 0; Failed = 0; Skipped = 0; ExitCode = $exitCode }
    foreach ($trx in Get-ChildItem -Path $folder -Filter *.trx -Recurse -ErrorAction SilentlyContinue) {
        $counters = ([xml](Get-Content -Raw $trx.FullName)).TestRun.ResultSummary.Counters
        $counts.Passed += [int]$counters.passed
        $counts.Failed += [int]$counters.failed + [int]$counters.error + [int]$counters.timeout + [int]$counters.aborted
        # xunit's skipped tests are in the total but not executed (the TRX notExecuted counter stays 0).
        $counts.Skipped += [int]$counters.total - [int]$counters.executed
    }
    [pscustomobject]$counts
}

# Runs the Pester suites in a child pwsh (the same pwsh as this one), so the module they load
# never locks files in this session; returns its counts.
function Invoke-PesterTests {
    $pester = Restore-Pester
    $resultFile = Join-Path $resultsFolder 'pester.json'
    $null = New-Item -ItemType Directory -Force $resultsFolder
    Remove-Item -Force -ErrorAction SilentlyContinue $resultFile
    $paths = if ($PesterPath) {
        $PesterPath | ForEach-Object { $_ -split ',' } | Where-Object { $_.Trim() } | ForEach-Object { (Resolve-Path $_.Trim()).Path }
    } else { @(Join-Path $root 'tests' 'pester') }

    $commandLine = @(Get-PwshCommandLine)
    $start = [System.Diagnostics.ProcessStartInfo]::new($commandLine[0])
    foreach ($argument in @($commandLine | Select-Object -Skip 1) + @(
            '-NoProfile', '-NonInteractive', '-File', (Join-Path $root 'build' 'RunPester.ps1'),
            '-PesterManifest', $pester, '-ResultFile', $resultFile) + $paths) {
        $start.ArgumentList.Add($argument)
    }
    $start.UseShellExecute = $false
    Write-Host "pester $($paths -join ' ')" -ForegroundColor Cyan
    $process = [System.Diagnostics.Process]::Start($start)
    if (-not $process.WaitForExit([TimeSpan]::FromMinutes($PesterTimeoutMinutes))) {
        $process.Kill($true)
        $process.WaitForExit()
        Write-Warning "The Pester run did not end within $PesterTimeoutMinutes minutes and was killed."
    }
    $counts = [ordered]@{ Runner = 'pester'; Passed = 0; Failed = 0; Skipped = 0; ExitCode = $process.ExitCode }
    if (Test-Path $resultFile) {
        $result = Get-Content -Raw $resultFile | ConvertFrom-Json
        $counts.Passed = $result.Passed
        $counts.Failed = $result.Failed
        $counts.Skipped = $result.Skipped
    }
    [pscustomobject]$counts
}

function Invoke-Test {
    $runs = @(
        if ($Suite -in 'All', 'Dotnet') { Invoke-DotnetTests }
        if ($Suite -in 'All', 'Pester') { Invoke-PesterTests }
    )
    $problems = foreach ($run in $runs) {
        # One plain line per runner; .ci/run sums these two into its closing line.
        Write-Host ('{0}: {1} passed, {2} failed, {3} skipped' -f $run.Runner, $run.Passed, $run.Failed, $run.Skipped)
        if ($run.ExitCode -ne 0) { "$($run.Runner) exited with code $($run.ExitCode)" }
        elseif ($run.Failed -gt 0) { "$($run.Runner) had $($run.Failed) failing tests" }
        elseif ($run.Passed -eq 0) { "$($run.Runner) ran no test" }
    }
    if ($problems) { throw "Tests failed: $($problems -join '; ')." }
}

function Invoke-Package {
    $version = (Import-PowerShellDataFile (Join-Path $moduleFolder 'AwsTunnel.psd1')).ModuleVersion
    $destination = Join-Path $root 'out' 'package'
    $null = New-Item -ItemType Directory -Force $destination
    Remove-Item -Force -ErrorAction SilentlyContinue (Join-Path $destination "AwsTunnel.$version.nupkg")
    Compress-PSResource -Path $moduleFolder -DestinationPath $destination
    $package = Join-Path $destination "AwsTunnel.$version.nupkg"
    if (-not (Test-Path $package)) { throw "Compress-PSResource left no $package." }
    Write-Host "Package: $package" -ForegroundColor Green
}

foreach ($t in $Task) {
    switch ($t) {
        'Clean'   { Invoke-Clean }
        'Build'   { Invoke-Build }
        # The Pester suites install the package (tests/pester/Package.Tests.ps1).
        'Test'    { Invoke-Build; Invoke-Package; Invoke-Test }
        # From a module folder made anew, so no file of an earlier build is published.
        'Package' { Remove-Item -Recurse -Force -ErrorAction SilentlyContinue $moduleFolder; Invoke-Build; Invoke-Package }
    }
}
