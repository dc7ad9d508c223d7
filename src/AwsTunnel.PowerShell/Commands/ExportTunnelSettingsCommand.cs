using System.Collections;
using System.Management.Automation;
using AwsTunnel.Engine.Settings;
using AwsTunnel.PowerShell.Completers;
using AwsTunnel.PowerShell.Input;

namespace AwsTunnel.PowerShell.Commands;

/// <summary>
/// <para type="synopsis">Writes the local proxy settings, every key with its value, to a JSON file.</para>
/// <para type="description">Export-TunnelSettings writes the settings in the reference local proxy's JSON shape (nested under tunneling.proxy, every value a string, every key present), like localproxy --export-default-settings. Without -SettingsPath and -Setting it writes the defaults. Edit the file and give it to Start-TunnelSource or Start-TunnelDestination with -SettingsPath, or to awstunnel / localproxy with --settings-json.</para>
/// <para type="description">-SettingsPath starts from an existing file and -Setting applies one-off overrides, so the cmdlet can also check and complete a settings file. An existing file at -Path is replaced.</para>
/// </summary>
/// <example>
/// <code>Export-TunnelSettings -Path ./lpsettings.json</code>
/// <para>Writes the default settings to lpsettings.json.</para>
/// </example>
/// <example>
/// <code>Export-TunnelSettings -Path ./lpsettings.json -Setting @{ 'websocket.ping_period_ms' = 10000; 'tcp.max_active_connections' = 4 } -PassThru</code>
/// <para>Writes the defaults with two keys changed and returns the file.</para>
/// </example>
/// <example>
/// <code>Export-TunnelSettings -Path ./full.json -SettingsPath ./partial.json -WhatIf</code>
/// <para>Checks partial.json (its malformed values are errors) and shows what would be written, without writing.</para>
/// </example>
[Cmdlet(VerbsData.Export, "TunnelSettings", SupportsShouldProcess = true)]
[OutputType(typeof(FileInfo))]
public sealed class ExportTunnelSettingsCommand : PSCmdlet
{
    /// <summary>
    /// <para type="description">The file to write, e.g. ./lpsettings.json. It is replaced if it exists; its directory must exist.</para>
    /// </summary>
    [Parameter(Mandatory = true, Position = 0)]
    [ValidateNotNullOrEmpty]
    public string Path { get; set; } = string.Empty;

    /// <summary>
    /// <para type="description">Overrides of single keys, relative to tunneling.proxy, e.g. @{ 'websocket.ping_period_ms' = 10000 }. An unknown key or a malformed value is an InvalidSettings error.</para>
    /// </summary>
    [Parameter]
    [ArgumentCompleter(typeof(SettingKeyCompleter))]
    public Hashtable? Setting { get; set; }

    /// <summary>
    /// <para type="description">A settings JSON file to start from instead of the defaults; keys it lacks keep their defaults.</para>
    /// </summary>
    [Parameter]
    [Alias("SettingsJson")]
    [ValidateNotNullOrEmpty]
    public string? SettingsPath { get; set; }

    /// <summary>
    /// <para type="description">Return the written file as a FileInfo.</para>
    /// </summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    /// <inheritdoc />
    protected override void ProcessRecord()
    {
        string path = SessionState.Path.GetUnresolvedProviderPathFromPSPath(Path);
        ProxySettings settings;
        try
        {
            string? source = SettingsPath is null ? null : SessionState.Path.GetUnresolvedProviderPathFromPSPath(SettingsPath);
            settings = SettingArgument.Resolve(source, Setting, logger: null);
        }
        catch (SettingsException ex)
        {
            ThrowTerminatingError(TunnelErrors.InvalidSettings(ex));
            return;
        }

        if (!ShouldProcess(path, "Write tunnel settings"))
        {
            return;
        }

        try
        {
            ProxySettingsJson.ExportToFile(settings, path);
        }
        catch (SettingsException ex)
        {
            ThrowTerminatingError(new ErrorRecord(ex, "ExportFailed", ErrorCategory.WriteError, path));
            return;
        }

        if (PassThru)
        {
            WriteObject(new FileInfo(path));
        }
    }
}
