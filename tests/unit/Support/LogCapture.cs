using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace AwsTunnel.Tests.Support;

/// <summary>An ILoggerFactory that keeps every formatted record (all levels), for assertions.</summary>
public sealed class LogCapture : ILoggerFactory, ILoggerProvider
{
    private readonly ConcurrentQueue<string> _lines = new();

    public IReadOnlyList<string> Lines => _lines.ToArray();

    public string All => string.Join("\n", _lines);

    /// <summary>
    /// Waits for a line that matches: session logs are written off the I/O loops, so a line may
    /// arrive a moment after the action that caused it.
    /// </summary>
    public Task WaitForLineAsync(Func<string, bool> match, string what, int timeoutMs = 10000) =>
        Eventually.TrueAsync(() => _lines.Any(match), what, timeoutMs);

    public ILogger CreateLogger(string categoryName) => new Logger(categoryName, _lines);

    public void AddProvider(ILoggerProvider provider) { }

    public void Dispose() { }

    private sealed class Logger(string category, ConcurrentQueue<string> lines) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            lines.Enqueue($"{logLevel} {category}: {formatter(state, exception)}{(exception is null ? string.Empty : " | " + exception)}");
    }
}
