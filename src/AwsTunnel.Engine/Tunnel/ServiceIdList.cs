namespace AwsTunnel.Engine.Tunnel;

/// <summary>
/// Formats a list of service ids (or mappings) for one line of a message: a hostile or broken
/// SERVICE_IDS may carry thousands of ids, or very long ones, which must not become a 40 KB line.
/// </summary>
public static class ServiceIdList
{
    /// <summary>How many entries are shown before the rest is counted.</summary>
    public const int MaxShown = 10;

    /// <summary>How many characters of one entry are shown.</summary>
    public const int MaxEntryLength = 64;

    /// <summary><c>[SSH1, HTTP]</c>, or <c>[first ten…, and 5991 more]</c>.</summary>
    public static string Describe<T>(IEnumerable<T> entries)
    {
        var all = entries.Select(e => e?.ToString() ?? string.Empty).ToList();
        var shown = all.Take(MaxShown).Select(e => e.Length <= MaxEntryLength ? e : e[..MaxEntryLength] + "…").ToList();
        if (all.Count > MaxShown)
        {
            shown.Add($"and {all.Count - MaxShown} more");
        }

        return $"[{string.Join(", ", shown)}]";
    }
}
