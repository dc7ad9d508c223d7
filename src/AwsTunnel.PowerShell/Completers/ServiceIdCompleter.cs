using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;
using AwsTunnel.PowerShell.Sessions;

namespace AwsTunnel.PowerShell.Completers;

/// <summary>
/// Completes -Service with the service ids this PowerShell session knows: those of open local
/// tunnels and of running sessions. Start cmdlets get <c>ID=</c>, ready for a port or target.
/// </summary>
public sealed class ServiceIdCompleter : IArgumentCompleter
{
    /// <inheritdoc />
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        string prefix = wordToComplete.Trim('\'', '"');
        bool mapping = parameterName.Equals("Service", StringComparison.OrdinalIgnoreCase) &&
                       commandName.StartsWith("Start-Tunnel", StringComparison.OrdinalIgnoreCase);
        return KnownServiceIds()
            .Where(id => id.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
            .Select(id => new CompletionResult(mapping ? id + "=" : id, id, CompletionResultType.ParameterValue, id));
    }

    internal static IEnumerable<string> KnownServiceIds()
    {
        var scope = RunspaceScope.Current;
        return scope.LocalServices.SelectMany(s => s.Tunnels).Where(t => t.IsOpen).SelectMany(t => t.Services)
            .Concat(scope.Sessions.SelectMany(s => s.ServiceIds))
            .Where(id => id.Length > 0)
            .Distinct(StringComparer.Ordinal)
            .OrderBy(id => id, StringComparer.OrdinalIgnoreCase);
    }
}
