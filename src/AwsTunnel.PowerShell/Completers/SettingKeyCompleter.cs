using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;
using AwsTunnel.Engine.Settings;

namespace AwsTunnel.PowerShell.Completers;

/// <summary>Completes -Setting with the dotted settings keys (ProxySettingKeys.All), e.g. websocket.ping_period_ms.</summary>
public sealed class SettingKeyCompleter : IArgumentCompleter
{
    /// <inheritdoc />
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        string prefix = wordToComplete.TrimStart('@', '{', ' ').Trim('\'', '"');
        return ProxySettingKeys.All
            .Where(k => k.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
            .Select(k => new CompletionResult($"@{{'{k}'=", k, CompletionResultType.ParameterValue, ProxySettingKeys.FullName(k)));
    }
}
