using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;

namespace AwsTunnel.Cli;

/// <summary>The standard help, followed by the exit-code table on the root command's help.</summary>
internal sealed class HelpWithExitCodes : SynchronousCommandLineAction
{
    private readonly HelpAction _help;

    public HelpWithExitCodes(HelpAction help) => _help = help;

    public override bool ClearsParseErrors => true;

    public override int Invoke(ParseResult parseResult)
    {
        int result = _help.Invoke(parseResult);
        if (parseResult.CommandResult.Command is RootCommand)
        {
            parseResult.InvocationConfiguration.Output.WriteLine(ExitCodes.Table);
        }

        return result;
    }
}
