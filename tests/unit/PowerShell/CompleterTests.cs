
namespace AwsTunnel.Tests.PowerShellModule;

/// <summary>Tab completion of -Region and -Service.</summary>
public sealed class CompleterTests : IDisposable
{
    private readonly ModuleRunspace _ps = new();

    public void Dispose() => _ps.Dispose();

    [Fact]
    public void Region_completes_AWS_region_names()
    {
        var matches = Complete("Start-TunnelSource -Region eu-we");

        Assert.Equal(new[] { "eu-west-1", "eu-west-2", "eu-west-3" }, matches);
    }

    [Fact]
    public void Service_completes_the_ids_of_open_local_tunnels()
    {
        _ps.Run("$null = New-LocalTunnel -Service SSH1, HTTP");

        Assert.Equal(new[] { "SSH1=" }, Complete("Start-TunnelSource -Service SS"));
        Assert.Equal(new[] { "HTTP=", "SSH1=" }, Complete("Start-TunnelDestination -Service "));
    }

    private string[] Complete(string input)
    {
        var result = _ps.Run("(TabExpansion2 -inputScript $InputText -cursorColumn $InputText.Length).CompletionMatches.CompletionText",
            ("InputText", input));
        return result.Select(o => o.ToString()).ToArray();
    }
}
