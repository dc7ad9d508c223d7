namespace AwsTunnel.Engine.Transport;

/// <summary>
/// Keeps the process's last file descriptors free for the runtime. Accepting connections until
/// the descriptor limit is reached is not survivable on .NET 8 under Linux: when the thread pool
/// then needs a new thread, starting it fails for want of a descriptor, and the runtime ends
/// the process ("Out of memory."), every tunnel of it with it, a user's PowerShell host
/// included. So accept loops stop taking connections while fewer than <see cref="Reserve"/>
/// descriptors are left; the connections wait in the listen queue until others close.
/// <para>
/// The limit is the process's soft <c>RLIMIT_NOFILE</c> as Linux reports it in
/// <c>/proc/self/limits</c> (after the runtime raised it to the hard limit at start). Open
/// descriptors are counted in <c>/proc/self/fd</c>, only when an estimate (the last count plus
/// the connections accepted since) comes near the limit, so the count costs nothing far from
/// it. Elsewhere (or when /proc cannot be read) there is no check.
/// </para>
/// </summary>
internal static class DescriptorHeadroom
{
    /// <summary>Descriptors kept free for the runtime (threads, name resolution, log files, TLS).</summary>
    public const int Reserve = 64;

    private static readonly long s_limit = ReadSoftLimit();
    // Open descriptors at the last count plus the connections accepted since; -1 before the first count.
    private static long s_estimate = -1;

    /// <summary>The process's descriptor limit, or 0 where it is not known.</summary>
    public static long Limit => s_limit;

    /// <summary>
    /// True when one more connection can be accepted and still leave <see cref="Reserve"/>
    /// descriptors free; <paramref name="open"/> is the count of open descriptors when it was
    /// taken (else -1).
    /// </summary>
    public static bool HasRoom(out long open)
    {
        open = -1;
        if (s_limit <= 0)
        {
            return true;
        }

        long threshold = s_limit - Reserve;
        long estimate = Interlocked.Read(ref s_estimate);
        if (estimate >= 0 && estimate < threshold - 1)
        {
            return true;
        }

        open = CountOpen();
        if (open < 0)
        {
            // /proc cannot be read: no check, and no recount at every accept.
            Interlocked.Exchange(ref s_estimate, 0);
            return true;
        }

        Interlocked.Exchange(ref s_estimate, open);
        return open < threshold - 1;
    }

    /// <summary>An accept loop took a connection: one more descriptor in the estimate.</summary>
    public static void OnAccepted() => Interlocked.Increment(ref s_estimate);

    private static long CountOpen()
    {
        try
        {
            long count = 0;
            foreach (var _ in Directory.EnumerateFileSystemEntries("/proc/self/fd"))
            {
                count++;
            }

            return count;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return -1;
        }
    }

    private static long ReadSoftLimit()
    {
        if (!OperatingSystem.IsLinux())
        {
            return 0;
        }

        try
        {
            foreach (string line in File.ReadLines("/proc/self/limits"))
            {
                // "Max open files            1024                 524288               files"
                if (!line.StartsWith("Max open files", StringComparison.Ordinal))
                {
                    continue;
                }

                string[] fields = line["Max open files".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
                return fields.Length > 0 && long.TryParse(fields[0], out long soft) && soft > Reserve * 2 ? soft : 0;
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
        }

        return 0;
    }
}
