using System.Management.Automation;

namespace AwsTunnel.Tests.PowerShellModule;

/// <summary>The module folder is a valid, importable module that exports exactly its cmdlets.</summary>
public sealed class ModuleManifestTests : IDisposable
{
    private static readonly string[] Cmdlets =
    {
        "Close-LocalTunnel", "Export-TunnelSettings", "Get-LocalTunnelService", "Get-TunnelSession", "Get-TunnelStream", "New-LocalTunnel",
        "Start-LocalTunnelService", "Start-TunnelAgent", "Start-TunnelDestination", "Start-TunnelSource", "Stop-LocalTunnelService", "Stop-TunnelSession",
    };

    private readonly ModuleRunspace _ps = new();

    public void Dispose() => _ps.Dispose();

    [Fact]
    public void Test_ModuleManifest_accepts_the_built_manifest()
    {
        var module = _ps.RunSingle<PSModuleInfo>("Test-ModuleManifest \"$ModuleFolder/AwsTunnel.psd1\"",
            ("ModuleFolder", ModuleRunspace.ModuleFolder));

        Assert.Equal(new Version(0, 1, 0), module.Version);
        Assert.Equal(new Guid("07083696-6ab6-4609-ba90-197cd300367d"), module.Guid);
        Assert.Equal(new Version(7, 4), module.PowerShellVersion);
        Assert.Contains("Core", module.CompatiblePSEditions);
        Assert.Equal(Cmdlets, module.ExportedCmdlets.Keys.Order(StringComparer.Ordinal));
        // No invented project or license address: the Gallery shows none rather than a wrong one.
        Assert.Null(module.ProjectUri);
        Assert.Null(module.LicenseUri);
        Assert.Contains("SecureTunneling", module.Tags);
    }

    [Fact]
    public void Import_Module_exports_every_cmdlet_and_loads_the_format_file()
    {
        var names = _ps.Run("(Get-Module AwsTunnel).ExportedCmdlets.Keys").Select(o => (string)o.BaseObject).Order(StringComparer.Ordinal);

        Assert.Equal(Cmdlets, names);
        Assert.Single(_ps.Run("(Get-Module AwsTunnel).ExportedFormatFiles | Where-Object { $_ -like '*AwsTunnel.Format.ps1xml' }"));
    }

    [Fact]
    public void The_module_folder_does_not_ship_System_Management_Automation()
    {
        Assert.False(File.Exists(Path.Combine(ModuleRunspace.ModuleFolder, "System.Management.Automation.dll")));
        foreach (var dll in new[] { "AwsTunnel.PowerShell.dll", "AwsTunnel.Engine.dll", "Google.Protobuf.dll", "System.IO.Pipelines.dll", "Microsoft.Extensions.Logging.Abstractions.dll" })
        {
            Assert.True(File.Exists(Path.Combine(ModuleRunspace.ModuleFolder, dll)), dll + " is missing from the module folder");
        }
    }
}
