using System.Management.Automation;

namespace AwsTunnel.PowerShell.Commands;

/// <summary>Picks sessions by name (wildcards) and id, reporting names and ids that match nothing.</summary>
internal static class SessionSelection
{
    public static IEnumerable<TunnelSession> Select(Cmdlet cmdlet, IReadOnlyList<TunnelSession> sessions, string[]? names, int[]? ids)
    {
        IEnumerable<TunnelSession> result = sessions;
        if (names is { Length: > 0 })
        {
            var patterns = names.Select(n => new WildcardPattern(n, WildcardOptions.IgnoreCase)).ToArray();
            result = result.Where(s => patterns.Any(p => p.IsMatch(s.Name)));
            foreach (var name in names.Where(n => !WildcardPattern.ContainsWildcardCharacters(n)))
            {
                if (!sessions.Any(s => string.Equals(s.Name, name, StringComparison.OrdinalIgnoreCase)))
                {
                    cmdlet.WriteError(TunnelErrors.NotFound("SessionNotFound",
                        $"No tunnel session is named '{name}'. Run Get-TunnelSession to see the sessions of this PowerShell session.", name));
                }
            }
        }

        if (ids is { Length: > 0 })
        {
            result = result.Where(s => ids.Contains(s.Id));
            foreach (var id in ids.Where(id => sessions.All(s => s.Id != id)))
            {
                cmdlet.WriteError(TunnelErrors.NotFound("SessionNotFound",
                    $"No tunnel session has id {id}. Run Get-TunnelSession to see the sessions of this PowerShell session.", id));
            }
        }

        return result.ToList();
    }
}
