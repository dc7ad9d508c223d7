#Requires -Version 7.4
<#
.SYNOPSIS
    Runs Pester suites with a given Pester module and writes the counts as JSON (build.ps1's Test task).
#>
param(
    [Parameter(Mandatory)] [string] $PesterManifest,
    [Parameter(Mandatory)] [string] $ResultFile,
    # The suites, each its own argument after the named ones (a script run with -File cannot
    # take an array through one named parameter).
    [Parameter(Mandatory, ValueFromRemainingArguments)] [string[]] $Path
)

$ErrorActionPreference = 'Stop'
Import-Module $PesterManifest -Force
$configuration = New-PesterConfiguration
$configuration.Run.Path = $Path
$configuration.Run.PassThru = $true
$configuration.Output.Verbosity = 'Detailed'
# A CI log is a file: plain text instead of colour escape codes.
if ([Console]::IsOutputRedirected) { $configuration.Output.RenderMode = 'Plaintext' }
$result = Invoke-Pester -Configuration $configuration

# Failed blocks (a failing BeforeAll) fail the tests under them, which Pester may not count as run.
[ordered]@{
    Passed  = $result.PassedCount
    Failed  = $result.FailedCount + $result.FailedBlocksCount + $result.FailedContainersCount
    Skipped = $result.SkippedCount + $result.NotRunCount
} | ConvertTo-Json | Set-Content -Path $ResultFile
exit ([int]($result.Result -ne 'Passed'))
