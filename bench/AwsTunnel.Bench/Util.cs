using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace AwsTunnel.Bench;

/// <summary>A benchmark could not run as designed; the message says why.</summary>
internal sealed class BenchException(string message, Exception? inner = null) : Exception(message, inner);

internal static class Log
{
    private static readonly Stopwatch Clock = Stopwatch.StartNew();

    /// <summary>Progress goes to stderr, so stdout carries only the table.</summary>
    public static void Line(string text)
    {
        Console.Error.WriteLine($"[{Clock.Elapsed.TotalSeconds,7:0.0}s] {text}");
    }
}

internal static class Stats
{
    /// <summary>Nearest-rank percentile of unsorted samples.</summary>
    public static double Percentile(IReadOnlyList<double> samples, double p)
    {
        if (samples.Count == 0)
        {
            return double.NaN;
        }

        var sorted = samples.ToArray();
        Array.Sort(sorted);
        int rank = (int)Math.Ceiling(p / 100.0 * sorted.Length);
        return sorted[Math.Clamp(rank - 1, 0, sorted.Length - 1)];
    }

    public static double Median(IEnumerable<double> values)
    {
        var v = values.Where(x => !double.IsNaN(x)).ToArray();
        if (v.Length == 0)
        {
            return double.NaN;
        }

        Array.Sort(v);
        return v.Length % 2 == 1 ? v[v.Length / 2] : (v[v.Length / 2 - 1] + v[v.Length / 2]) / 2;
    }

    public static string F(double value, string format = "0.0") =>
        double.IsNaN(value) ? "n/a" : value.ToString(format, CultureInfo.InvariantCulture);
}

/// <summary>Reads CPU time and memory of a process from /proc (Linux).</summary>
internal static class Proc
{
    [DllImport("libc", SetLastError = true)]
    private static extern long sysconf(int name);

    private static readonly long TicksPerSecond = ReadClockTicks();

    private static long ReadClockTicks()
    {
        try
        {
            long t = sysconf(2); // _SC_CLK_TCK
            return t > 0 ? t : 100;
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
        {
            return 100;
        }
    }

    /// <summary>utime + stime of <paramref name="pid"/> in seconds, from /proc/PID/stat.</summary>
    public static double CpuSeconds(int pid) => CpuSecondsOf($"/proc/{pid}/stat");

    /// <summary>utime + stime of the calling thread in seconds, from /proc/thread-self/stat.</summary>
    public static double ThreadCpuSeconds() => CpuSecondsOf("/proc/thread-self/stat");

    private static double CpuSecondsOf(string path)
    {
        string stat = File.ReadAllText(path);
        // The command name is in parentheses and may contain spaces; fields follow the last ')'.
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        long utime = long.Parse(fields[11], CultureInfo.InvariantCulture);
        long stime = long.Parse(fields[12], CultureInfo.InvariantCulture);
        return (utime + stime) / (double)TicksPerSecond;
    }

    /// <summary>A field of /proc/PID/status ("VmRSS", "VmHWM", "Threads"); kB for memory fields.</summary>
    public static long Status(int pid, string field) => StatusOf($"/proc/{pid}/status", field);

    public static long SelfStatus(string field) => StatusOf("/proc/self/status", field);

    private static long StatusOf(string path, string field)
    {
        foreach (var line in File.ReadLines(path))
        {
            if (line.StartsWith(field + ":", StringComparison.Ordinal))
            {
                var value = line[(field.Length + 1)..].Trim().Split(' ')[0];
                return long.Parse(value, CultureInfo.InvariantCulture);
            }
        }

        throw new BenchException($"{path} has no {field} field.");
    }
}

/// <summary>
/// The bytes every client sends: a fixed random block repeated. Byte i of a stream that starts
/// at offset o is Data[(o + i) % Length], so the receiver checks every byte without keeping a copy,
/// and streams with different offsets carry different bytes (cross-talk is caught).
/// </summary>
internal static class Pattern
{
    public const int Length = 4 << 20;
    public static readonly byte[] Data = Make();

    private static byte[] Make()
    {
        var data = new byte[Length];
        new Random(20240607).NextBytes(data);
        return data;
    }

    /// <summary>The pattern from stream position <paramref name="position"/>, at most <paramref name="max"/> bytes (may be fewer at the wrap).</summary>
    public static ReadOnlyMemory<byte> Slice(long position, int max)
    {
        int index = (int)(position % Length);
        return Data.AsMemory(index, Math.Min(max, Length - index));
    }

    public static bool Matches(ReadOnlySpan<byte> received, long position)
    {
        while (!received.IsEmpty)
        {
            int index = (int)(position % Length);
            int n = Math.Min(received.Length, Length - index);
            if (!received[..n].SequenceEqual(Data.AsSpan(index, n)))
            {
                return false;
            }

            received = received[n..];
            position += n;
        }

        return true;
    }
}

internal static class Net
{
    public static async Task SendAllAsync(Socket socket, ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        while (!data.IsEmpty)
        {
            int sent = await socket.SendAsync(data, SocketFlags.None, cancellationToken).ConfigureAwait(false);
            data = data[sent..];
        }
    }

    public static async Task ReceiveExactlyAsync(Socket socket, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        while (!buffer.IsEmpty)
        {
            int n = await socket.ReceiveAsync(buffer, SocketFlags.None, cancellationToken).ConfigureAwait(false);
            if (n == 0)
            {
                throw new EndOfStreamException("The connection closed early.");
            }

            buffer = buffer[n..];
        }
    }

    public static async Task<Socket> ConnectAsync(IPEndPoint endPoint, CancellationToken cancellationToken)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(endPoint, cancellationToken).ConfigureAwait(false);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    public static IPEndPoint Loopback(int port) => new(IPAddress.Loopback, port);
}
