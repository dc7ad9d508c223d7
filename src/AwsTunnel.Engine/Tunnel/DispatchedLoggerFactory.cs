using Microsoft.Extensions.Logging;

namespace AwsTunnel.Engine.Tunnel;

/// <summary>
/// The session's loggers: a record is checked (<see cref="ILogger.IsEnabled"/>) where it is
/// raised, and written by the <see cref="SerialDispatcher"/>, off the socket and link loops.
/// Scopes are passed through but do not apply to the deferred write.
/// </summary>
internal sealed class DispatchedLoggerFactory : ILoggerFactory
{
    private readonly ILoggerFactory _inner;
    private readonly SerialDispatcher _dispatcher;

    public DispatchedLoggerFactory(ILoggerFactory inner, SerialDispatcher dispatcher)
    {
        _inner = inner;
        _dispatcher = dispatcher;
    }

    public ILogger CreateLogger(string categoryName) => new DispatchedLogger(_inner.CreateLogger(categoryName), _dispatcher);

    public void AddProvider(ILoggerProvider provider) => _inner.AddProvider(provider);

    /// <summary>The inner factory belongs to the caller.</summary>
    public void Dispose()
    {
    }

    private sealed class DispatchedLogger(ILogger inner, SerialDispatcher dispatcher) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => inner.BeginScope(state);

        public bool IsEnabled(LogLevel logLevel) => inner.IsEnabled(logLevel);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (inner.IsEnabled(logLevel))
            {
                dispatcher.PostLog(() => inner.Log(logLevel, eventId, state, exception, formatter));
            }
        }
    }
}
