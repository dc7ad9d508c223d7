namespace AwsTunnel.Cli;

/// <summary>
/// Has .NET run the continuation of a completed socket operation on the socket event thread,
/// rather than hand it to a thread-pool thread first. Every received chunk on every hop then
/// costs one thread wake-up less, which shortens round trips through the tunnel (B2). The
/// engine never blocks on these paths; the CLI writes its log lines synchronously to stderr,
/// as before. Only the CLI does this: the switch is process-wide and read once, before the
/// first socket, so the module leaves its PowerShell host as it is.
/// </summary>
internal static class SocketCompletions
{
    /// <summary>The runtime's switch; a value the user set (e.g. 0) is kept.</summary>
    public const string Variable = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";

    /// <summary>Call first thing in Main, before anything opens a socket.</summary>
    public static void RunInline()
    {
        if (Environment.GetEnvironmentVariable(Variable) is null)
        {
            Environment.SetEnvironmentVariable(Variable, "1");
        }
    }
}
