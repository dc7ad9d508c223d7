using AwsTunnel.Engine.Tunnel;
using Microsoft.Extensions.Logging;

namespace AwsTunnel.Engine.Settings;

/// <summary>
/// The reference proxy's <c>--config-dir DIR</c>: every file in the directory tree holds
/// service mappings, one per line — <c>SERVICE = port</c> on a source, <c>SERVICE = host:port</c>
/// (or a port) on a destination; lines starting with <c>#</c> or <c>;</c> are comments, blank lines
/// are allowed. Files are read once, in ordinal path order; files and folders whose names start
/// with '.' (editor and OS litter) are skipped, and, as in the reference, symbolic links to
/// directories are not followed.
/// </summary>
public static class ServiceConfigDirectory
{
    /// <summary>The name of the default directory beside the program.</summary>
    public const string DefaultName = "config";

    /// <summary>The default directory: <c>config</c> under <paramref name="baseDirectory"/> (the program's folder).</summary>
    public static string DefaultDirectory(string baseDirectory) => Path.Combine(baseDirectory, DefaultName);

    /// <summary>Reads every mapping in the directory tree.</summary>
    /// <param name="directory">The directory given with <c>--config-dir</c> / <c>-ConfigDirectory</c>.</param>
    /// <param name="logger">Receives a debug record per file read; null = none.</param>
    /// <returns>The mappings in file order; empty for an empty directory.</returns>
    /// <exception cref="SettingsException">
    /// the directory is missing, a file cannot be read, a line is malformed (the message names
    /// <c>file:line</c>), or a service id is mapped twice (the message names both places).
    /// </exception>
    public static IReadOnlyList<ServiceMapping> Load(string directory, ILogger? logger = null)
    {
        if (File.Exists(directory))
        {
            throw new SettingsException(
                $"Service configuration directory '{directory}' is a file. Give a directory whose files hold SERVICE=PORT or SERVICE=HOST:PORT lines.", directory);
        }

        if (!Directory.Exists(directory))
        {
            throw new SettingsException(
                $"Service configuration directory '{directory}' does not exist. Create it, or give a directory whose files hold SERVICE=PORT or SERVICE=HOST:PORT lines.", directory);
        }

        var result = new List<ServiceMapping>();
        var firstSeen = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var file in Files(directory))
        {
            logger?.LogDebug("Reading service mappings from {File}", file);
            string[] lines;
            try
            {
                lines = File.ReadAllLines(file);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw new SettingsException($"Service configuration file '{file}' could not be read: {ex.Message}", file, inner: ex);
            }

            for (int i = 0; i < lines.Length; i++)
            {
                string where = $"{file}:{i + 1}";
                var mapping = ParseLine(lines[i], where);
                if (mapping is null)
                {
                    continue;
                }

                if (firstSeen.TryGetValue(mapping.ServiceId, out var earlier))
                {
                    throw new SettingsException(
                        $"Service id '{mapping.ServiceId}' is mapped twice: in {earlier} and in {where}. Keep one of them.", where, mapping.ServiceId);
                }

                firstSeen[mapping.ServiceId] = where;
                result.Add(mapping);
            }
        }

        return result;
    }

    /// <summary>
    /// The mappings for the services a tunnel announced (SERVICE_IDS), as the reference uses a
    /// configuration directory: entries for other services are ignored; announced services
    /// without an entry are left out (a source then picks a free port, a destination cannot
    /// start). A tunnel that announced no services (V1) takes nothing from the directory.
    /// </summary>
    /// <param name="mappings">What <see cref="Load"/> returned.</param>
    /// <param name="announced">The SERVICE_IDS list; null or empty for a V1 tunnel.</param>
    public static IReadOnlyList<ServiceMapping> SelectFor(IReadOnlyList<ServiceMapping> mappings, IReadOnlyList<string>? announced)
    {
        ArgumentNullException.ThrowIfNull(mappings);
        if (announced is null || announced.Count == 0)
        {
            return Array.Empty<ServiceMapping>();
        }

        return mappings.Where(m => announced.Contains(m.ServiceId, StringComparer.Ordinal)).ToArray();
    }

    /// <summary>One line: null for blank and comment lines, else the mapping.</summary>
    /// <exception cref="SettingsException">the line is not SERVICE=PORT or SERVICE=HOST:PORT.</exception>
    internal static ServiceMapping? ParseLine(string line, string where)
    {
        string text = line.Trim().TrimStart('\uFEFF');
        if (text.Length == 0 || text[0] is '#' or ';')
        {
            return null;
        }

        if (text.StartsWith('[') && text.EndsWith(']'))
        {
            throw new SettingsException($"{where}: sections such as '{text}' are not supported. Put SERVICE=PORT lines directly in the file.", where);
        }

        if (!text.Contains('='))
        {
            throw new SettingsException(
                $"{where}: '{text}' has no service id. Write SERVICE=PORT (source) or SERVICE=HOST:PORT (destination), e.g. SSH1=22.", where);
        }

        try
        {
            return ServiceMapping.Parse(text, where);
        }
        catch (FormatException ex)
        {
            throw new SettingsException(ex.Message, where, inner: ex);
        }
    }

    private static IEnumerable<string> Files(string directory)
    {
        var files = new List<string>();
        var pending = new Stack<string>();
        pending.Push(directory);
        while (pending.Count > 0)
        {
            string current = pending.Pop();
            foreach (var file in Directory.EnumerateFiles(current))
            {
                if (!Path.GetFileName(file).StartsWith('.'))
                {
                    files.Add(file);
                }
            }

            foreach (var sub in Directory.EnumerateDirectories(current))
            {
                if (!Path.GetFileName(sub).StartsWith('.') && new DirectoryInfo(sub).LinkTarget is null)
                {
                    pending.Push(sub);
                }
            }
        }

        files.Sort(StringComparer.Ordinal);
        return files;
    }
}
