using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;

namespace AwsTunnel.PowerShell.Completers;

/// <summary>Completes -Region with the AWS regions (commercial, China and GovCloud).</summary>
public sealed class RegionCompleter : IArgumentCompleter
{
    /// <summary>AWS region names, in the order AWS lists them.</summary>
    internal static readonly string[] Regions =
    {
        "us-east-1", "us-east-2", "us-west-1", "us-west-2",
        "af-south-1",
        "ap-east-1", "ap-south-1", "ap-south-2", "ap-southeast-1", "ap-southeast-2", "ap-southeast-3", "ap-southeast-4",
        "ap-southeast-5", "ap-southeast-7", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-east-2",
        "ca-central-1", "ca-west-1",
        "eu-central-1", "eu-central-2", "eu-west-1", "eu-west-2", "eu-west-3", "eu-south-1", "eu-south-2", "eu-north-1",
        "il-central-1",
        "me-south-1", "me-central-1",
        "mx-central-1",
        "sa-east-1",
        "cn-north-1", "cn-northwest-1",
        "us-gov-east-1", "us-gov-west-1",
    };

    /// <inheritdoc />
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        string prefix = wordToComplete.Trim('\'', '"');
        return Regions
            .Where(r => r.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
            .Select(r => new CompletionResult(r, r, CompletionResultType.ParameterValue, r));
    }
}
