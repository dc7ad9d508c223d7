using System.Text.Json;
using AwsTunnel.Engine.Transport;
using Microsoft.Extensions.Logging;

namespace AwsTunnel.Engine.Settings;

/// <summary>Walks a parsed settings document, collecting values into a copy of <see cref="ProxySettings.Default"/>.</summary>
/// <param name="origin">Names the input in messages.</param>
/// <param name="logger">Receives warnings for unknown keys; null = none.</param>
internal sealed class ProxySettingsJsonReader(string origin, ILogger? logger)
{
    private ProxySettings _settings = ProxySettings.Default;

    public ProxySettings ReadRoot(JsonElement root)
    {
        ExpectObject(root, "the top level");
        foreach (var top in root.EnumerateObject())
        {
            if (top.Name != "tunneling")
            {
                Unknown(top.Name);
                continue;
            }

            ExpectObject(top.Value, "tunneling");
            foreach (var child in top.Value.EnumerateObject())
            {
                if (child.Name != "proxy")
                {
                    Unknown("tunneling." + child.Name);
                    continue;
                }

                ExpectObject(child.Value, ProxySettingKeys.Root);
                ReadSection(child.Value, prefix: string.Empty);
            }
        }

        return _settings;
    }

    private void ReadSection(JsonElement section, string prefix)
    {
        foreach (var property in section.EnumerateObject())
        {
            string key = prefix + property.Name;
            var value = property.Value;
            if (key == ProxySettingKeys.RegionEndpointOverrides)
            {
                ReadOverrides(value);
            }
            else if (ProxySettingKeys.TryFind(key, out var setting))
            {
                _settings = setting.Set(_settings, Scalar(value, key), origin, logger);
            }
            else if (value.ValueKind == JsonValueKind.Object && ProxySettingKeys.IsSection(key))
            {
                ReadSection(value, key + ".");
            }
            else if (ProxySettingKeys.IsSection(key))
            {
                throw new SettingsException(
                    $"{origin}: '{ProxySettingKeys.FullName(key)}' must be an object holding its settings, not {Describe(value)}.", origin, ProxySettingKeys.FullName(key));
            }
            else if (ProxySettingKeys.ReferenceOnly.Contains(key))
            {
                logger?.LogDebug("{Origin}: setting '{Key}' is used only by the reference proxy; ignored.", origin, ProxySettingKeys.FullName(key));
            }
            else
            {
                Unknown(ProxySettingKeys.FullName(key));
            }
        }
    }

    private void ReadOverrides(JsonElement value)
    {
        string key = ProxySettingKeys.FullName(ProxySettingKeys.RegionEndpointOverrides);
        if (value.ValueKind == JsonValueKind.String && value.GetString()!.Trim().Length == 0)
        {
            _settings = _settings with { RegionEndpointOverrides = new Dictionary<string, string>(StringComparer.Ordinal) };
            return;
        }

        if (value.ValueKind != JsonValueKind.Object)
        {
            throw new SettingsException(
                $"{origin}: '{key}' must be an object of region to host, e.g. {{\"us-east-1\": \"data.tunneling.iot.us-east-1.amazonaws.com\"}}, not {Describe(value)}.",
                origin, key);
        }

        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var entry in value.EnumerateObject())
        {
            string region = CheckRegion(entry.Name, origin);
            map[region] = CheckHost(region, Scalar(entry.Value, ProxySettingKeys.RegionEndpointOverrides + "." + entry.Name), origin);
        }

        _settings = _settings with { RegionEndpointOverrides = map };
    }

    private string Scalar(JsonElement value, string key) => value.ValueKind switch
    {
        JsonValueKind.String => value.GetString()!,
        JsonValueKind.Number => value.GetRawText(),
        JsonValueKind.True => "true",
        JsonValueKind.False => "false",
        _ => throw new SettingsException(
            $"{origin}: setting '{ProxySettingKeys.FullName(key)}' is {Describe(value)}, but it must be a single value written as a string, e.g. \"{Example(key)}\".",
            origin, ProxySettingKeys.FullName(key)),
    };

    private string Example(string key) =>
        ProxySettingKeys.TryFind(key, out var setting) ? setting.Get(ProxySettings.Default) : "host.example.com";

    private void ExpectObject(JsonElement element, string what)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            throw new SettingsException(
                $"{origin}: {what} must be a JSON object shaped like {{\"tunneling\": {{\"proxy\": {{...}}}}}}, not {Describe(element)}. Export a sample with --export-default-settings (Export-TunnelSettings).",
                origin);
        }
    }

    private void Unknown(string fullKey) =>
        logger?.LogWarning("{Origin}: unknown setting '{Key}' ignored. Check its spelling against a file written by --export-default-settings.", origin, fullKey);

    private static string Describe(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.Null => "null",
        _ => $"the value {value.GetRawText()}",
    };

    /// <summary>A region name as a key of <c>region_endpoint_overrides</c>.</summary>
    internal static string CheckRegion(string region, string origin)
    {
        if (region.Length == 0 || region.Any(c => char.IsWhiteSpace(c) || c == '.'))
        {
            throw new SettingsException(
                $"{origin}: '{ProxySettingKeys.FullName(ProxySettingKeys.RegionEndpointOverrides)}' has an entry for region '{region}', which is not a region name. Use a name such as us-east-1.",
                origin, ProxySettingKeys.FullName(ProxySettingKeys.RegionEndpointOverrides));
        }

        return region;
    }

    /// <summary>A host (or host:port, or wss:// URI) as a value of <c>region_endpoint_overrides</c>.</summary>
    internal static string CheckHost(string region, string host, string origin)
    {
        string key = ProxySettingKeys.FullName(ProxySettingKeys.RegionEndpointOverrides) + "." + region;
        try
        {
            if (host.Trim().Length > 0)
            {
                TunnelEndpoint.FromEndpoint(host.Trim());
                return host.Trim();
            }
        }
        catch (ArgumentException)
        {
        }

        throw new SettingsException($"{origin}: setting '{key}' has the value '{host}', but it must be a host name, host:port, or a wss:// URI.", origin, key);
    }
}
