using System.Collections;
using AwsTunnel.Cli;

// `awstunnel`: the reference localproxy's command line over the AwsTunnel engine.
SocketCompletions.RunInline();
using var signals = new ShutdownSignals();
var environment = new Dictionary<string, string?>(StringComparer.Ordinal);
foreach (DictionaryEntry variable in Environment.GetEnvironmentVariables())
{
    environment[(string)variable.Key] = variable.Value as string;
}

return await CliApp.RunAsync(args, Console.Out, Console.Error, environment, signals.Token);
