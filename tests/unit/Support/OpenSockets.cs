using System.Globalization;

namespace AwsTunnel.Tests.Support;

/// <summary>
/// The TCP sockets this process holds open (Linux): file descriptors in /proc/self/fd that are
/// sockets, matched with /proc/net/tcp and tcp6 for their ports. Tests run in parallel in one
/// process, so a test counts only the sockets on its own ports.
/// </summary>
public static class OpenSockets
{
    /// <summary>Sockets of this process whose local or remote port is <paramref name="port"/>, held by a file descriptor.</summary>
    public static int OnPort(int port) => Held().Count(s => s.Local == port || s.Remote == port);

    /// <summary>Every TCP socket held by a descriptor of this process, with its ports.</summary>
    public static List<(int Local, int Remote)> Held()
    {
        var inodes = new HashSet<string>();
        foreach (var fd in Directory.EnumerateFileSystemEntries("/proc/self/fd"))
        {
            try
            {
                if (new FileInfo(fd).LinkTarget is { } target && target.StartsWith("socket:[", StringComparison.Ordinal))
                {
                    inodes.Add(target[8..^1]);
                }
            }
            catch (IOException)
            {
                // Closed while listing.
            }
        }

        var held = new List<(int, int)>();
        foreach (var table in new[] { "/proc/net/tcp", "/proc/net/tcp6" })
        {
            if (!File.Exists(table))
            {
                continue;
            }

            foreach (var line in File.ReadLines(table).Skip(1))
            {
                var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (fields.Length > 9 && inodes.Contains(fields[9]))
                {
                    held.Add((Port(fields[1]), Port(fields[2])));
                }
            }
        }

        return held;
    }

    private static int Port(string address) => int.Parse(address[(address.LastIndexOf(':') + 1)..], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
}
