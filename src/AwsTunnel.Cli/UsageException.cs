namespace AwsTunnel.Cli;

/// <summary>The command line is wrong; the message names the flag and the fix. Exit code 2.</summary>
internal sealed class UsageException : Exception
{
    public UsageException(string message, Exception? inner = null)
        : base(message, inner)
    {
    }
}
