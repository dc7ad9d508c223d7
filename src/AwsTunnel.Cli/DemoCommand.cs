using System.CommandLine;

namespace AwsTunnel.Cli;

/// <summary>
/// <c>awstunnel demo</c>: a whole tunnel in one process (local service, destination, source,
/// echo server) with data pushed through it and checked.
/// </summary>
internal static class DemoCommand
{
    public const long DefaultBytes = 8 * 1024 * 1024;

    public static Command Create(CliContext context)
    {
        var bytes = new Option<long>("--bytes")
        {
            Description = "How many random bytes to send through the tunnel and read back (default 8 MiB).",
            HelpName = "N",
            DefaultValueFactory = _ => DefaultBytes,
        };
        var tls = new Option<bool>("--tls") { Description = "Use wss:// with the service's self-signed certificate." };
        var verbose = new Option<string?>("--verbose", "-v") { Description = "Log level on stderr, 0-6 (default 3, warning).", HelpName = "0-6" };

        var command = new Command("demo", "Run a tunnel end to end on this machine and check that data crosses it intact.")
        {
            bytes, tls, verbose,
        };

        command.SetAction(async (parseResult, cancellationToken) =>
        {
            long count = parseResult.GetValue(bytes);
            if (count <= 0)
            {
                throw new UsageException($"--bytes {count} is not a size. Give a positive number of bytes.");
            }

            var level = CliLogging.ParseVerbosity(parseResult.GetValue(verbose), defaultVerbosity: 3);
            using var loggerFactory = CliLogging.CreateFactory(level, context.Error);
            var demo = new EchoDemo(context, loggerFactory, parseResult.GetValue(tls));
            return await demo.RunAsync(count, cancellationToken);
        });

        return command;
    }
}
