using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace AwsTunnel.Bench;

/// <summary>The traffic the benchmarks generate. Every loop is bounded by a byte count, a trip count or a deadline.</summary>
internal static class Clients
{
    private const int SendChunk = 256 * 1024;

    /// <summary>
    /// Sends <paramref name="bytes"/> of the pattern to the sink at <paramref name="endPoint"/> (directly or
    /// through a source proxy) and waits for its verdict. Returns the time from the first byte sent to the
    /// sink's answer.
    /// </summary>
    public static async Task<TimeSpan> SinkTransferAsync(IPEndPoint endPoint, long bytes, long offset, CancellationToken cancellationToken)
    {
        using var socket = await Net.ConnectAsync(endPoint, cancellationToken).ConfigureAwait(false);
        var clock = Stopwatch.StartNew();
        await Net.SendAllAsync(socket, TestServer.SinkHeader(bytes, offset), cancellationToken).ConfigureAwait(false);
        long sent = 0;
        while (sent < bytes)
        {
            var chunk = Pattern.Slice(offset + sent, (int)Math.Min(SendChunk, bytes - sent));
            await Net.SendAllAsync(socket, chunk, cancellationToken).ConfigureAwait(false);
            sent += chunk.Length;
        }

        var answer = new byte[1];
        await Net.ReceiveExactlyAsync(socket, answer, cancellationToken).ConfigureAwait(false);
        clock.Stop();
        if (answer[0] != (byte)'K')
        {
            throw new BenchException("The sink received corrupted data.");
        }

        return clock.Elapsed;
    }

    /// <summary>Opens an echo connection (sends the mode byte).</summary>
    public static async Task<Socket> OpenEchoAsync(IPEndPoint endPoint, CancellationToken cancellationToken)
    {
        var socket = await Net.ConnectAsync(endPoint, cancellationToken).ConfigureAwait(false);
        try
        {
            await Net.SendAllAsync(socket, new[] { TestServer.Echo }, cancellationToken).ConfigureAwait(false);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Sends <paramref name="bytes"/> of the pattern on an open echo connection while reading the echo,
    /// and checks every byte. Returns null when all came back intact, else why not. The connection is
    /// not half-closed first: the tunneling protocol has no half-close (a proxy that reads the end of
    /// a local stream resets the connection), so a client keeps it open until it has its answer.
    /// </summary>
    public static async Task<string?> EchoTransferAsync(Socket socket, long bytes, long offset, CancellationToken cancellationToken)
    {
        try
        {
            var sending = Task.Run(async () =>
            {
                long sent = 0;
                while (sent < bytes)
                {
                    var chunk = Pattern.Slice(offset + sent, (int)Math.Min(64 * 1024, bytes - sent));
                    await Net.SendAllAsync(socket, chunk, cancellationToken).ConfigureAwait(false);
                    sent += chunk.Length;
                }
            }, cancellationToken);

            var buffer = new byte[64 * 1024];
            long received = 0;
            while (received < bytes)
            {
                int want = (int)Math.Min(buffer.Length, bytes - received);
                int n = await socket.ReceiveAsync(buffer.AsMemory(0, want), SocketFlags.None, cancellationToken).ConfigureAwait(false);
                if (n == 0)
                {
                    return $"echo ended after {received} of {bytes} bytes";
                }

                if (!Pattern.Matches(buffer.AsSpan(0, n), offset + received))
                {
                    return $"corrupted data at byte {received}";
                }

                received += n;
            }

            await sending.ConfigureAwait(false);
            return null;
        }
        catch (OperationCanceledException)
        {
            return "timed out";
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException or EndOfStreamException)
        {
            return ex.Message;
        }
    }

    /// <summary>
    /// Pushes the pattern to a sink as fast as the connection takes it until <paramref name="stop"/>
    /// is cancelled; returns the bytes sent.
    /// </summary>
    public static async Task<long> BulkAsync(IPEndPoint endPoint, CancellationToken stop)
    {
        using var socket = await Net.ConnectAsync(endPoint, stop).ConfigureAwait(false);
        await Net.SendAllAsync(socket, TestServer.SinkHeader(long.MaxValue, 0), stop).ConfigureAwait(false);
        long sent = 0;
        try
        {
            while (!stop.IsCancellationRequested)
            {
                var chunk = Pattern.Slice(sent, 64 * 1024);
                await Net.SendAllAsync(socket, chunk, stop).ConfigureAwait(false);
                sent += chunk.Length;
            }
        }
        catch (OperationCanceledException)
        {
        }

        return sent;
    }
}

/// <summary>
/// Sequential request/response round trips on one echo connection with blocking calls on a
/// dedicated thread, so the client adds as little jitter as it can.
/// </summary>
internal sealed class LatencyProbe : IDisposable
{
    public const int MessageSize = 64;
    private readonly Socket _socket;
    private readonly byte[] _request = new byte[MessageSize];
    private readonly byte[] _response = new byte[MessageSize];
    private long _counter;

    private LatencyProbe(Socket socket) => _socket = socket;

    /// <param name="mode">The target's mode: <see cref="TestServer.Echo"/>, or <see cref="TestServer.InteractiveEcho"/> for an echo on its own thread.</param>
    public static LatencyProbe Open(IPEndPoint endPoint, TimeSpan timeout, byte mode = TestServer.Echo)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            socket.SendTimeout = (int)timeout.TotalMilliseconds;
            socket.ReceiveTimeout = (int)timeout.TotalMilliseconds;
            socket.Connect(endPoint);
            socket.Send(new[] { mode });
            return new LatencyProbe(socket);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Runs up to <paramref name="count"/> round trips (stopping early at <paramref name="limit"/>) and
    /// returns each one's time in microseconds. A reply that is not the request fails the run.
    /// </summary>
    public Task<double[]> MeasureAsync(int count, TimeSpan limit) =>
        Task.Factory.StartNew(() => Measure(count, limit), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    /// <summary>Alternates round trips on two probes (a, b, a, b, …); see <see cref="MeasureAlternatingAsync"/>.</summary>
    public static async Task<(double[] A, double[] B)> MeasurePairedAsync(LatencyProbe a, LatencyProbe b, int count, TimeSpan limit)
    {
        var samples = await MeasureAlternatingAsync(new[] { a, b }, count, limit);
        return (samples[0], samples[1]);
    }

    /// <summary>
    /// Alternates round trips over several probes (a, b, c, a, b, c, …) so that all see the same
    /// moments of a shared, noisy machine; returns each one's times in microseconds, in order.
    /// </summary>
    public static Task<double[][]> MeasureAlternatingAsync(IReadOnlyList<LatencyProbe> probes, int count, TimeSpan limit) =>
        Task.Factory.StartNew(() =>
        {
            var samples = probes.Select(_ => new List<double>(count)).ToArray();
            var clock = Stopwatch.StartNew();
            for (int i = 0; i < count && clock.Elapsed < limit; i++)
            {
                for (int p = 0; p < probes.Count; p++)
                {
                    samples[p].Add(probes[p].RoundTrip());
                }
            }

            return samples.Select(s => s.ToArray()).ToArray();
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    private double[] Measure(int count, TimeSpan limit)
    {
        var samples = new List<double>(count);
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < count && clock.Elapsed < limit; i++)
        {
            samples.Add(RoundTrip());
        }

        return samples.ToArray();
    }

    /// <summary>One round trip, in microseconds. A reply that is not the request fails the run.</summary>
    private double RoundTrip()
    {
        BitConverter.TryWriteBytes(_request, ++_counter);
        long start = Stopwatch.GetTimestamp();
        _socket.Send(_request);
        int got = 0;
        while (got < MessageSize)
        {
            int n = _socket.Receive(_response, got, MessageSize - got, SocketFlags.None);
            if (n == 0)
            {
                throw new BenchException("The echo connection closed during a round trip.");
            }

            got += n;
        }

        long end = Stopwatch.GetTimestamp();
        if (!_response.AsSpan().SequenceEqual(_request))
        {
            throw new BenchException("An echo reply did not match its request.");
        }

        return Stopwatch.GetElapsedTime(start, end).TotalMicroseconds;
    }

    public void Dispose() => _socket.Dispose();
}
