namespace AwsTunnel.Cli;

/// <summary>
/// Where a command writes and what it reads from the environment. Passed in rather than
/// taken from <see cref="Console"/> so tests can run the CLI in-process.
/// </summary>
internal sealed class CliContext
{
    public CliContext(TextWriter stdout, TextWriter stderr, IDictionary<string, string?> environment)
    {
        // Engine log records arrive from many threads at once.
        Out = TextWriter.Synchronized(stdout);
        Error = TextWriter.Synchronized(stderr);
        // Variable names are case-insensitive on Windows only.
        var variables = new Dictionary<string, string?>(OperatingSystem.IsWindows() ? StringComparer.OrdinalIgnoreCase : StringComparer.Ordinal);
        foreach (var (name, value) in environment)
        {
            variables[name] = value;
        }

        Environment = variables;
    }

    /// <summary>Lines for scripts: endpoints, bound ports, demo results.</summary>
    public TextWriter Out { get; }

    /// <summary>Log records, warnings and errors.</summary>
    public TextWriter Error { get; }

    public IReadOnlyDictionary<string, string?> Environment { get; }

    /// <summary>An environment variable's value, or null when it is unset or blank.</summary>
    public string? Variable(string name) =>
        Environment.TryGetValue(name, out var value) && !string.IsNullOrWhiteSpace(value) ? value.Trim() : null;

    public void WriteError(string message) => Error.WriteLine($"awstunnel: error: {message}");

    public void WriteWarning(string message) => Error.WriteLine($"awstunnel: warning: {message}");
}
