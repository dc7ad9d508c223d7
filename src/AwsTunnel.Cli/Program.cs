using System.Collections;
using AwsTunnel.Cli;
using AwsTunnel.Engine.Transport;

// `awstunnel`: the reference localproxy's command line over the AwsTunnel engine.
SocketCompletions.RunInline();
if (args.Length == 0 || args[0] is not ("service" or "demo" or "--help" or "-h" or "-?" or "--version" or "-V"))
{
    // The proxy and the agent validate a certificate first thing: load the system store meanwhile.
    SystemTrustStoreWarmUp.Begin();
}

using var signals = new ShutdownSignals();
var environment = new Dictionary<string, string?>(StringComparer.Ordinal);
foreach (DictionaryEntry variable in Environment.GetEnvironmentVariables())
{
    environment[(string)variable.Key] = variable.Value as string;
}

return await CliApp.RunAsync(args, Console.Out, Console.Error, environment, signals.Token);
