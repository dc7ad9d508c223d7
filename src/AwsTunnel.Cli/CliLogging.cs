using System.Globalization;
using Microsoft.Extensions.Logging;

namespace AwsTunnel.Cli;

/// <summary>
/// The reference proxy's <c>-v</c> levels (0 off … 6 trace) and a logger factory that
/// writes engine records to stderr at that level.
/// </summary>
internal static class CliLogging
{
    /// <summary>Info, as in the reference proxy.</summary>
    public const int DefaultVerbosity = 4;

    /// <summary>The highest <c>-v</c> the reference takes (its option is a 16-bit number); everything from 6 up is trace.</summary>
    public const int MaxVerbosity = ushort.MaxValue;

    /// <summary>Parses a <c>-v</c> value; null means the default. Levels above 6 mean 6 (trace), as in the reference.</summary>
    /// <exception cref="UsageException">not a whole number from 0 to 65535.</exception>
    public static LogLevel ParseVerbosity(string? text, string flag = "-v/--verbose", int defaultVerbosity = DefaultVerbosity)
    {
        if (text is null)
        {
            return ToLogLevel(defaultVerbosity);
        }

        if (!int.TryParse(text.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out int verbosity) || verbosity > MaxVerbosity)
        {
            throw new UsageException(
                $"{flag} '{text}' is not a verbosity level. Give 0 (off), 1 (fatal), 2 (error), 3 (warning), 4 (info, the default), 5 (debug) or 6 (trace; higher numbers mean 6 too).");
        }

        return ToLogLevel(Math.Min(verbosity, 6));
    }

    /// <summary>A factory writing records at <paramref name="minimum"/> and above to <paramref name="stderr"/>.</summary>
    public static ILoggerFactory CreateFactory(LogLevel minimum, TextWriter stderr) =>
        LoggerFactory.Create(builder => builder
            .SetMinimumLevel(minimum)
            .AddProvider(new WriterLoggerProvider(stderr)));

    private static LogLevel ToLogLevel(int verbosity) => verbosity switch
    {
        0 => LogLevel.None,
        1 => LogLevel.Critical,
        2 => LogLevel.Error,
        3 => LogLevel.Warning,
        4 => LogLevel.Information,
        5 => LogLevel.Debug,
        _ => LogLevel.Trace,
    };
}
