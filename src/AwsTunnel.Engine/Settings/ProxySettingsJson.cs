using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace AwsTunnel.Engine.Settings;

/// <summary>
/// Reads and writes the reference proxy's fine-grained settings file (<c>lpsettings.json</c>,
/// <c>--settings-json</c> / <c>--export-default-settings</c>): nested objects under
/// <c>tunneling.proxy</c>, values as strings (JSON numbers and booleans are accepted too).
/// Missing keys keep their defaults; unknown keys are ignored with a warning; malformed values
/// fail with a <see cref="SettingsException"/> naming the key, the value and what is expected.
/// AwsTunnel's own <see cref="ProxySettings.ConnectionBufferLimitBytes"/> is kept under
/// <c>tunneling.proxy.awstunnel.connection_buffer_limit_bytes</c>, which the reference ignores.
/// </summary>
public static class ProxySettingsJson
{
    private static readonly JsonDocumentOptions ReadOptions = new() { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip };

    /// <summary>Reads a settings file; keys it lacks keep the defaults of <see cref="ProxySettings.Default"/>.</summary>
    /// <param name="path">The file, e.g. <c>lpsettings.json</c>.</param>
    /// <param name="logger">Receives a warning for every unknown key; null = none.</param>
    /// <exception cref="SettingsException">the file is missing, unreadable, not JSON, or has a malformed value.</exception>
    public static ProxySettings Load(string path, ILogger? logger = null)
    {
        string json;
        try
        {
            json = File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new SettingsException(
                $"Settings file '{path}' does not exist. Give the path of a JSON file written by --export-default-settings (Export-TunnelSettings).", path, inner: ex);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new SettingsException($"Settings file '{path}' could not be read: {ex.Message}", path, inner: ex);
        }

        return Parse(json, logger, path);
    }

    /// <summary>Parses settings JSON; keys it lacks keep the defaults of <see cref="ProxySettings.Default"/>.</summary>
    /// <param name="json">The text of a settings file.</param>
    /// <param name="logger">Receives a warning for every unknown key; null = none.</param>
    /// <param name="sourceName">Names the input in messages (usually the file name).</param>
    /// <exception cref="SettingsException">the text is not JSON of the expected shape, or a value is malformed.</exception>
    public static ProxySettings Parse(string json, ILogger? logger = null, string sourceName = "settings JSON")
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json, ReadOptions);
        }
        catch (JsonException ex)
        {
            string where = ex.LineNumber is { } line ? $" at line {line + 1}, position {(ex.BytePositionInLine ?? 0) + 1}" : string.Empty;
            throw new SettingsException(
                $"{sourceName} is not valid JSON{where}. Fix the syntax, or start again from a file written by --export-default-settings (Export-TunnelSettings).",
                sourceName, inner: ex);
        }

        using (document)
        {
            var reader = new ProxySettingsJsonReader(sourceName, logger);
            return reader.ReadRoot(document.RootElement);
        }
    }

    /// <summary>Applies one-off overrides such as <c>websocket.ping_period_ms = 10000</c> to a copy of <paramref name="settings"/>.</summary>
    /// <param name="settings">The settings to start from.</param>
    /// <param name="dottedKeys">
    /// Keys relative to <c>tunneling.proxy</c> (the full <c>tunneling.proxy.</c> prefix is accepted too; case does not matter),
    /// e.g. <c>tcp.max_active_connections</c>, <c>awstunnel.connection_buffer_limit_bytes</c>, or
    /// <c>region_endpoint_overrides.us-east-1</c> for one region's host.
    /// </param>
    /// <param name="sourceName">Names the input in messages, e.g. <c>-Setting</c>.</param>
    /// <param name="logger">Hears about out-of-range values that are taken as the nearest valid one; null = none.</param>
    /// <exception cref="SettingsException">a key is unknown or a value is malformed; unlike a file, an unknown override is an error.</exception>
    public static ProxySettings ApplyOverrides(ProxySettings settings, IReadOnlyDictionary<string, string> dottedKeys, string sourceName = "setting override", ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(dottedKeys);
        var result = settings;
        Dictionary<string, string>? overrides = null;
        foreach (var (rawKey, value) in dottedKeys)
        {
            string key = Relative(rawKey.Trim().ToLowerInvariant());
            if (key.StartsWith(ProxySettingKeys.RegionEndpointOverrides + ".", StringComparison.Ordinal))
            {
                string region = key[(ProxySettingKeys.RegionEndpointOverrides.Length + 1)..];
                overrides ??= new Dictionary<string, string>(result.RegionEndpointOverrides, StringComparer.Ordinal);
                overrides[ProxySettingsJsonReader.CheckRegion(region, sourceName)] = ProxySettingsJsonReader.CheckHost(region, value ?? string.Empty, sourceName);
            }
            else if (ProxySettingKeys.TryFind(key, out var setting))
            {
                result = setting.Set(result, value ?? string.Empty, sourceName, logger);
            }
            else
            {
                throw new SettingsException(
                    $"{sourceName}: '{rawKey}' is not a settings key. Use one of: {string.Join(", ", ProxySettingKeys.All)}, or {ProxySettingKeys.RegionEndpointOverrides}.REGION.",
                    sourceName, rawKey);
            }
        }

        return overrides is null ? result : result with { RegionEndpointOverrides = overrides };
    }

    /// <summary>The settings as the reference's JSON shape: nested under <c>tunneling.proxy</c>, every value a string, every key present.</summary>
    public static string Export(ProxySettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            writer.WriteStartObject();
            writer.WriteStartObject("tunneling");
            writer.WriteStartObject("proxy");
            string? section = null;
            foreach (var key in ProxySettingKeys.All)
            {
                int dot = key.IndexOf('.');
                string? keySection = dot < 0 ? null : key[..dot];
                if (keySection != section)
                {
                    if (section is not null)
                    {
                        writer.WriteEndObject();
                    }

                    if (keySection is not null)
                    {
                        writer.WriteStartObject(keySection);
                    }

                    section = keySection;
                }

                writer.WriteString(dot < 0 ? key : key[(dot + 1)..], ProxySettingKeys.Get(settings, key));
                if (key == "endpoint_format")
                {
                    WriteOverrides(writer, settings.RegionEndpointOverrides);
                }
            }

            if (section is not null)
            {
                writer.WriteEndObject();
            }

            writer.WriteEndObject();
            writer.WriteEndObject();
            writer.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray()) + Environment.NewLine;
    }

    /// <summary>Writes <see cref="Export"/> to a file, replacing it.</summary>
    /// <exception cref="SettingsException">the file could not be written; the message names it and the reason.</exception>
    public static void ExportToFile(ProxySettings settings, string path)
    {
        string text = Export(settings);
        try
        {
            File.WriteAllText(path, text, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new SettingsException($"Could not write the settings to '{path}': {ex.Message} Give a path in an existing, writable directory.", path, inner: ex);
        }
    }

    private static void WriteOverrides(Utf8JsonWriter writer, IReadOnlyDictionary<string, string> overrides)
    {
        writer.WriteStartObject(ProxySettingKeys.RegionEndpointOverrides);
        foreach (var (region, host) in overrides.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            writer.WriteString(region, host);
        }

        writer.WriteEndObject();
    }

    private static string Relative(string key) =>
        key.StartsWith(ProxySettingKeys.Root + ".", StringComparison.Ordinal) ? key[(ProxySettingKeys.Root.Length + 1)..] : key;
}
