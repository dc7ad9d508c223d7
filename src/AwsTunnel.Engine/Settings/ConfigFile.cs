using Microsoft.Extensions.Logging;

namespace AwsTunnel.Engine.Settings;

/// <summary>
/// The reference proxy's <c>--config FILE</c>: one <c>key = value</c> line per option (spaces
/// around <c>=</c> optional), keys being long command-line option names, <c>#</c> starting a
/// comment that runs to the end of the line, blank lines allowed. As in the reference, values
/// are taken literally (quotes are not removed) and each key may appear once. A <c>[section]</c>
/// line is ignored with a warning (the options after it are read as if it were not there). Command-line
/// flags override the file; the file overrides the environment — that precedence is the
/// caller's to apply.
/// </summary>
public static class ConfigFile
{
    /// <summary>The option <c>no-ssl-host-verify</c>, a switch: its value is normalised to <c>true</c> or <c>false</c>.</summary>
    public const string NoSslHostVerify = "no-ssl-host-verify";

    /// <summary>Every key a config file may hold (the long option names).</summary>
    public static IReadOnlyList<string> Keys { get; } = Array.AsReadOnly(new[]
    {
        "region", "access-token", "client-token", "proxy-endpoint", "source-listen-port", "destination-app",
        "local-bind-address", "capath", "mode", "verbose", "destination-client-type", "config-dir", "settings-json",
        NoSslHostVerify,
    });

    /// <summary>Reads a config file.</summary>
    /// <param name="path">The file, e.g. <c>config.ini</c>.</param>
    /// <param name="logger">Receives a warning for a value written in quotes (kept literally); null = none.</param>
    /// <returns>Option name to value, in the order of the file.</returns>
    /// <exception cref="SettingsException">the file is missing or unreadable, or a line is malformed; the message names the file and line.</exception>
    public static IReadOnlyDictionary<string, string> Load(string path, ILogger? logger = null)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new SettingsException($"Config file '{path}' does not exist. Give the path of a file of 'option = value' lines.", path, inner: ex);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new SettingsException($"Config file '{path}' could not be read: {ex.Message}", path, inner: ex);
        }

        return Parse(text, path, logger);
    }

    /// <summary>Parses the text of a config file.</summary>
    /// <param name="text">The file's content.</param>
    /// <param name="sourceName">Names the input in messages (usually the file name).</param>
    /// <param name="logger">Receives a warning for a value written in quotes (kept literally); null = none.</param>
    /// <returns>Option name to value, in the order of the file.</returns>
    /// <exception cref="SettingsException">a line is malformed; the message names the input, the line number and the fix. Values are never echoed (one may be a token).</exception>
    public static IReadOnlyDictionary<string, string> Parse(string text, string sourceName = "config file", ILogger? logger = null)
    {
        var result = new OrderedMap();
        var lineOf = new Dictionary<string, int>(StringComparer.Ordinal);
        int number = 0;
        foreach (var rawLine in text.Split('\n'))
        {
            number++;
            string where = $"{sourceName}:{number}";
            string line = StripComment(rawLine).Trim().TrimStart('\uFEFF');
            if (line.Length == 0)
            {
                continue;
            }

            if (line.StartsWith('[') && line.EndsWith(']'))
            {
                // The reference's parser takes section lines; its options need none, so the line changes nothing.
                logger?.LogWarning("{Where}: section line '{Section}' ignored; the options of a config file need no section.", where, line);
                continue;
            }

            int eq = line.IndexOf('=');
            if (eq < 0)
            {
                throw new SettingsException(
                    $"{where}: the line has no '='. Write each option as 'option = value', e.g. 'region = us-east-1', or start the line with '#' to make it a comment.", where);
            }

            string key = line[..eq].Trim();
            string value = line[(eq + 1)..].Trim();
            if (!Keys.Contains(key, StringComparer.Ordinal))
            {
                throw UnknownKey(key, where);
            }

            if (lineOf.TryGetValue(key, out int first))
            {
                throw new SettingsException(
                    $"{where}: option '{key}' is given again (first on line {first}). Give each option once.", where, key);
            }

            if (key == NoSslHostVerify)
            {
                value = ParseSwitch(value) ?? throw new SettingsException(
                    $"{where}: option '{key}' has the value '{value}', but it must be true or false (also yes/no, on/off, 1/0).", where, key);
            }
            else if (value.Length == 0)
            {
                throw new SettingsException($"{where}: option '{key}' has no value after '='. Give one, or remove the line.", where, key);
            }
            else if (value.Length >= 2 && (value[0] is '"' or '\'') && value[^1] == value[0])
            {
                logger?.LogWarning(
                    "{Where}: the value of '{Key}' is in quotes; like the reference proxy, AwsTunnel keeps the quotes as part of the value. Remove them unless they belong to it.",
                    where, key);
            }

            lineOf[key] = number;
            result.Add(key, value);
        }

        return result;
    }

    private static string StripComment(string line)
    {
        int hash = line.IndexOf('#');
        return hash < 0 ? line : line[..hash];
    }

    private static string? ParseSwitch(string value) => value.ToLowerInvariant() switch
    {
        "" or "true" or "yes" or "on" or "1" => "true",
        "false" or "no" or "off" or "0" => "false",
        _ => null,
    };

    private static SettingsException UnknownKey(string key, string where)
    {
        string bare = key.TrimStart('-');
        string hint = Keys.FirstOrDefault(k => string.Equals(k, bare, StringComparison.OrdinalIgnoreCase)) is { } match
            ? $" Did you mean '{match}'?"
            : key is "config" or "help" or "export-default-settings" or "version"
                ? " That option only works on the command line."
                : string.Empty;
        return new SettingsException(
            $"{where}: '{key}' is not an option a config file may set.{hint} Use one of: {string.Join(", ", Keys)}. Service mappings belong in a --config-dir directory.",
            where, key);
    }

    /// <summary>A read-only dictionary that enumerates in insertion order.</summary>
    private sealed class OrderedMap : IReadOnlyDictionary<string, string>
    {
        private readonly Dictionary<string, string> _map = new(StringComparer.Ordinal);
        private readonly List<string> _order = new();

        public void Add(string key, string value)
        {
            _map.Add(key, value);
            _order.Add(key);
        }

        public string this[string key] => _map[key];
        public IEnumerable<string> Keys => _order;
        public IEnumerable<string> Values => _order.Select(k => _map[k]);
        public int Count => _order.Count;
        public bool ContainsKey(string key) => _map.ContainsKey(key);
        public bool TryGetValue(string key, out string value) => _map.TryGetValue(key, out value!);
        public IEnumerator<KeyValuePair<string, string>> GetEnumerator() => _order.Select(k => new KeyValuePair<string, string>(k, _map[k])).GetEnumerator();
        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
    }
}
