using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;

namespace AwsTunnel.Cli;

/// <summary>
/// The whole command line in one call, with its writers and environment passed in, so
/// tests run it in-process. <c>Program</c> calls it with the console and the process
/// environment.
/// </summary>
public static class CliApp
{
    /// <summary>Parses <paramref name="args"/>, runs the command and returns the exit code (<see cref="ExitCodes"/>).</summary>
    /// <param name="args">The command line, without the program name.</param>
    /// <param name="stdout">Lines for scripts: bound ports, endpoints, demo results.</param>
    /// <param name="stderr">Log records, warnings and errors.</param>
    /// <param name="environment">The environment variables to read (AWSIOT_TUNNEL_*, https_proxy).</param>
    /// <param name="cancellationToken">Cancelled on Ctrl+C or SIGTERM: a running tunnel stops cleanly and the exit code is 0.</param>
    public static async Task<int> RunAsync(
        string[] args, TextWriter stdout, TextWriter stderr, IDictionary<string, string?> environment, CancellationToken cancellationToken)
    {
        var context = new CliContext(stdout, stderr, environment);
        var parseResult = BuildRootCommand(context).Parse(args);
        if (parseResult.Action is ParseErrorAction)
        {
            foreach (var error in parseResult.Errors)
            {
                context.WriteError($"{error.Message} See 'awstunnel --help'.");
            }

            return ExitCodes.Usage;
        }

        try
        {
            return await parseResult.InvokeAsync(new InvocationConfiguration
            {
                Output = context.Out,
                Error = context.Error,
                EnableDefaultExceptionHandler = false,
                // Program owns the signals, so a stop goes through the tunnel's clean shutdown.
                ProcessTerminationTimeout = null,
            }, cancellationToken);
        }
        catch (UsageException ex)
        {
            context.WriteError(ex.Message);
            return ExitCodes.Usage;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return ExitCodes.Success;
        }
        catch (Exception ex)
        {
            context.WriteError(ex.Message);
            return ExitCodes.Failure;
        }
        finally
        {
            await context.Out.FlushAsync(CancellationToken.None);
            await context.Error.FlushAsync(CancellationToken.None);
        }
    }

    private static RootCommand BuildRootCommand(CliContext context)
    {
        var root = new RootCommand(
            "AWS IoT Secure Tunneling local proxy. Run as a source (-s) or a destination (-d) of a tunnel; " +
            "the flags and environment variables are those of the reference localproxy.");

        var builtInVersion = root.Options.OfType<VersionOption>().First();
        root.Options.Remove(builtInVersion);
        root.Options.Add(new VersionOption("--version", "-V") { Action = new VersionAction() });

        var help = root.Options.OfType<HelpOption>().First();
        help.Action = new HelpWithExitCodes((HelpAction)help.Action!);

        new ProxyCommand(context).AddTo(root);
        root.Add(ServiceCommand.Create(context));
        root.Add(DemoCommand.Create(context));
        root.Add(AgentCommand.Create(context));
        return root;
    }
}
