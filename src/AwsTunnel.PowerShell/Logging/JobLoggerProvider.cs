using Microsoft.Extensions.Logging;

namespace AwsTunnel.PowerShell.Logging;

/// <summary>
/// The Microsoft.Extensions.Logging provider that turns engine log records into
/// PowerShell stream records of one session. The engine never puts a token in a record,
/// and this provider adds nothing but the formatted message.
/// </summary>
internal sealed class JobLoggerProvider : ILoggerProvider
{
    private readonly SessionLog _log;

    public JobLoggerProvider(SessionLog log) => _log = log;

    public ILogger CreateLogger(string categoryName) => new JobLogger(_log, categoryName);

    public void Dispose()
    {
    }

    private sealed class JobLogger : ILogger
    {
        private readonly SessionLog _log;
        private readonly string _category;

        public JobLogger(SessionLog log, string category)
        {
            _log = log;
            _category = category;
        }

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None && logLevel >= _log.MinimumLevel;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel))
            {
                return;
            }

            string message = formatter(state, exception);
            if (exception is not null && !message.Contains(exception.Message, StringComparison.Ordinal))
            {
                // The exception's message only: a stack trace is no use in a job stream.
                message += " " + exception.Message;
            }

            _log.Write(new LogEntry(logLevel, _category, message, DateTime.Now));
        }
    }
}

/// <summary>A logger factory over exactly one provider (the module does not carry Microsoft.Extensions.Logging itself).</summary>
internal sealed class ProviderLoggerFactory : ILoggerFactory
{
    private readonly ILoggerProvider _provider;

    public ProviderLoggerFactory(ILoggerProvider provider) => _provider = provider;

    public void AddProvider(ILoggerProvider provider)
    {
        // One provider by design.
    }

    public ILogger CreateLogger(string categoryName) => _provider.CreateLogger(categoryName);

    public void Dispose() => _provider.Dispose();
}
