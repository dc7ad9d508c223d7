using System.Management.Automation;

namespace AwsTunnel.Tests.PowerShellModule;

/// <summary>Get-Help shows the generated MAML help: synopsis, description, every parameter, examples.</summary>
public sealed class HelpTests : IDisposable
{
    private readonly ModuleRunspace _ps = new();

    public void Dispose() => _ps.Dispose();

    public static TheoryData<string> Cmdlets() => new()
    {
        "Start-TunnelSource", "Start-TunnelDestination", "Start-TunnelAgent", "Get-TunnelSession", "Get-TunnelStream", "Stop-TunnelSession",
        "Start-LocalTunnelService", "Get-LocalTunnelService", "Stop-LocalTunnelService", "New-LocalTunnel", "Close-LocalTunnel", "Export-TunnelSettings",
    };

    [Theory]
    [MemberData(nameof(Cmdlets))]
    public void Get_Help_has_synopsis_description_parameters_and_two_examples(string cmdlet)
    {
        var values = _ps.Run("""
            $help = Get-Help $Cmdlet -Full
            $help.Synopsis
            @($help.Description).Count
            @($help.Examples.Example).Count
            $documented = @($help.Parameters.Parameter | ForEach-Object { $_.Name })
            $declared = @((Get-Command $Cmdlet).Parameters.Values | Where-Object { -not $_.Attributes.DontShow -and $_.Name -notin [System.Management.Automation.PSCmdlet]::CommonParameters -and $_.Name -notin [System.Management.Automation.PSCmdlet]::OptionalCommonParameters } | ForEach-Object { $_.Name })
            @($declared | Where-Object { $_ -notin $documented }) -join ','
            """, ("Cmdlet", cmdlet)).Select(o => o.BaseObject).ToArray();

        Assert.False(string.IsNullOrWhiteSpace((string)values[0]));
        Assert.DoesNotContain("[<CommonParameters>]", (string)values[0], StringComparison.Ordinal);
        Assert.True((int)values[1] >= 1, "no description");
        Assert.True((int)values[2] >= 2, "fewer than two examples");
        Assert.Equal(string.Empty, values[3]);
    }

    [Fact]
    public void Parameter_help_says_how_AccessToken_binds()
    {
        var text = _ps.RunSingle<string>("(Get-Help Start-TunnelSource -Parameter AccessToken).pipelineInput");

        Assert.Contains("ByPropertyName", text, StringComparison.Ordinal);
    }
}
