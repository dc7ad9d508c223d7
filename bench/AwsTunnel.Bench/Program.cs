using System.Runtime.InteropServices;
using AwsTunnel.Bench;

// The end-to-end benchmarks of issue 7 (B1-B5) against real awstunnel processes on loopback, and
// B7 (issue 12): side by side with the reference localproxy over wss.
// `fleet-worker` is the B4 child role (see FleetWorker).
if (args.Length > 0 && args[0] == "fleet-worker")
{
    return await FleetWorker.RunAsync();
}

BenchOptions options;
try
{
    options = BenchOptions.Parse(args);
}
catch (HelpRequested)
{
    Console.WriteLine(BenchOptions.Usage);
    return 0;
}
catch (Exception ex) when (ex is ArgumentException or FormatException)
{
    Console.Error.WriteLine($"AwsTunnel.Bench: {ex.Message}");
    Console.Error.WriteLine(BenchOptions.Usage);
    return 2;
}

Directory.CreateDirectory(options.WorkDir);
using var children = new ChildRegistry(options.PidFile);

// Whatever happens (Ctrl+C, SIGTERM, an exception), the children go too.
Console.CancelKeyPress += (_, e) =>
{
    children.KillAll();
};
AppDomain.CurrentDomain.ProcessExit += (_, _) => children.KillAll();
using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, _ => children.KillAll());

var results = new Results();
int exitCode = 0;
string machine = Machine.Describe();
string loadBefore = Machine.LoadAverage();
Log.Line("Machine: " + machine + "; load average " + loadBefore);
await using (var server = new TestServer())
{
    var ctx = new BenchContext(options, children, results, server);
    var benches = new (string Name, Func<BenchContext, Task> Run)[]
    {
        ("B1", B1Throughput.RunAsync),
        ("B2", B2Latency.RunAsync),
        ("B3", B3FanOut.RunAsync),
        ("B4", B4Fleet.RunAsync),
        ("B5", B5Fairness.RunAsync),
        ("B7", B7SideBySide.RunAsync),
        ("B8", B8NonReaders.RunAsync),
    };
    foreach (var (name, run) in benches.Where(b => options.Runs(b.Name)))
    {
        try
        {
            await run(ctx);
        }
        catch (Exception ex)
        {
            exitCode = 1;
            string message = ex is BenchException ? ex.Message : ex.ToString();
            Log.Line($"{name} failed: {message}");
            results.Error(name, ex.Message);
        }
        finally
        {
            children.KillAll();
        }
    }
}

var sb = new System.Text.StringBuilder();
sb.AppendLine($"### End-to-end benchmarks ({(options.Quick ? "quick run: reduced sizes, targets are for the full run" : "full run")})");
sb.AppendLine();
sb.AppendLine($"Machine: {machine}. Load average (1/5/15 min) at start {loadBefore}, at end {Machine.LoadAverage()}.");
sb.AppendLine();
string cliForm = options.CliDll.EndsWith(".dll", StringComparison.OrdinalIgnoreCase)
    ? "`dotnet awstunnel.dll ... -v 2` (framework-dependent, JIT)"
    : "`awstunnel ... -v 2` (the published native executable)";
sb.AppendLine($"Medians of {options.Reps} repetition(s). MB/s = 10^6 bytes/s. Proxies run as {cliForm}.");
sb.AppendLine();
sb.Append(results.ToMarkdown());
string table = sb.ToString();
Console.WriteLine();
Console.WriteLine(table);
if (options.MarkdownOut is { } path)
{
    Directory.CreateDirectory(Path.GetDirectoryName(path)!);
    File.WriteAllText(path, table);
}

return exitCode;
