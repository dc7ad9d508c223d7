using System.CommandLine;
using System.CommandLine.Invocation;
using System.Reflection;

namespace AwsTunnel.Cli;

/// <summary>Prints <c>awstunnel VERSION</c> for <c>-V</c>/<c>--version</c>.</summary>
internal sealed class VersionAction : SynchronousCommandLineAction
{
    /// <summary>The product version, without the source revision suffix.</summary>
    public static string Version
    {
        get
        {
            string version = typeof(VersionAction).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
                ?? typeof(VersionAction).Assembly.GetName().Version?.ToString()
                ?? "unknown";
            int plus = version.IndexOf('+');
            return plus < 0 ? version : version[..plus];
        }
    }

    public override int Invoke(ParseResult parseResult)
    {
        parseResult.InvocationConfiguration.Output.WriteLine($"awstunnel {Version}");
        return ExitCodes.Success;
    }
}
