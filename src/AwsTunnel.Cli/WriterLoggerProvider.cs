using Microsoft.Extensions.Logging;

namespace AwsTunnel.Cli;

/// <summary>
/// Writes log records as single lines (<c>[time] [level] message</c>) to a writer. Exceptions
/// add their message, never a stack trace: the engine's messages already say what to do.
/// </summary>
internal sealed class WriterLoggerProvider : ILoggerProvider
{
    private readonly TextWriter _writer;

    public WriterLoggerProvider(TextWriter writer) => _writer = writer;

    public ILogger CreateLogger(string categoryName) => new WriterLogger(_writer);

    public void Dispose()
    {
    }

    private sealed class WriterLogger(TextWriter writer) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel))
            {
                return;
            }

            string message = formatter(state, exception);
            if (exception is not null)
            {
                message += $" ({exception.Message})";
            }

            writer.WriteLine($"[{DateTimeOffset.UtcNow:yyyy-MM-ddTHH:mm:ss.fffZ}] [{Name(logLevel)}] {message}");
        }

        private static string Name(LogLevel level) => level switch
        {
            LogLevel.Trace => "trace",
            LogLevel.Debug => "debug",
            LogLevel.Information => "info",
            LogLevel.Warning => "warning",
            LogLevel.Error => "error",
            _ => "fatal",
        };
    }
}
