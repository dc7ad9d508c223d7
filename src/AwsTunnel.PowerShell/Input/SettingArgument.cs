using System.Collections;
using System.Globalization;
using System.Management.Automation;
using AwsTunnel.Engine.Settings;
using Microsoft.Extensions.Logging;

namespace AwsTunnel.PowerShell.Input;

/// <summary>
/// Turns -SettingsPath and -Setting @{ 'websocket.ping_period_ms' = 10000 } into engine
/// settings (shared by the Start cmdlets and Export-TunnelSettings).
/// </summary>
internal static class SettingArgument
{
    /// <summary>The source name used in messages about -Setting.</summary>
    public const string SettingSource = "-Setting";

    /// <summary>The hashtable's entries as dotted keys and invariant-culture strings.</summary>
    public static IReadOnlyDictionary<string, string> ToDictionary(IDictionary setting)
    {
        var result = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (DictionaryEntry entry in setting)
        {
            string key = Convert.ToString(Unwrap(entry.Key), CultureInfo.InvariantCulture) ?? string.Empty;
            object? value = Unwrap(entry.Value);
            result[key] = value is bool b ? (b ? "true" : "false") : Convert.ToString(value, CultureInfo.InvariantCulture) ?? string.Empty;
        }

        return result;
    }

    /// <summary>Defaults, then the file (if any), then the overrides (if any).</summary>
    /// <exception cref="SettingsException">the file or an override is invalid.</exception>
    public static ProxySettings Resolve(string? resolvedSettingsPath, IDictionary? setting, ILogger? logger)
    {
        var settings = resolvedSettingsPath is null ? ProxySettings.Default : ProxySettingsJson.Load(resolvedSettingsPath, logger);
        if (setting is { Count: > 0 })
        {
            settings = ProxySettingsJson.ApplyOverrides(settings, ToDictionary(setting), SettingSource, logger);
        }

        return settings;
    }

    private static object? Unwrap(object? value) => value is PSObject ps ? ps.BaseObject : value;
}
