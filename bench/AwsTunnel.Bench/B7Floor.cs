using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using AwsTunnel.Engine.Protocol;
using AwsTunnel.Engine.Transport;

namespace AwsTunnel.Bench;

/// <summary>
/// What a destination's work costs on this machine before any proxy code runs, measured in the
/// bench process on one thread each: decrypting the bytes (AES-256-GCM, what TLS 1.3 between
/// OpenSSL peers negotiates, in 16 KiB records) and relaying them through loopback TCP without
/// TLS, with the destination's own I/O sizes (receives of up to its read-ahead, one send per
/// largest DATA payload). B7 reports their sum beside the destination's CPU per GiB and its target.
/// </summary>
internal static class B7Floor
{
    private const int RecordBytes = 16 * 1024;
    private static readonly TimeSpan IoTimeout = TimeSpan.FromSeconds(30);

    /// <summary>CPU seconds per GiB of the decryption alone and of the relay alone.</summary>
    public readonly record struct Cost(double DecryptCpu, double RelayCpu);

    public static Cost Measure(long bytes)
    {
        double gib = bytes / (double)(1L << 30);
        return new Cost(OnThread(() => Decrypt(bytes)) / gib, OnThread(() => Relay(bytes)) / gib);
    }

    /// <summary>Runs <paramref name="work"/> on a thread of its own and returns what it measured.</summary>
    private static double OnThread(Func<double> work)
    {
        double result = 0;
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                result = work();
            }
            catch (Exception ex)
            {
                failure = ex;
            }
        }) { IsBackground = true, Name = "B7 floor" };
        thread.Start();
        thread.Join();
        return failure is null ? result : throw new BenchException($"B7's floor measurement failed: {failure.Message}", failure);
    }

    /// <summary>The calling thread's CPU seconds to decrypt <paramref name="bytes"/> in TLS-sized records.</summary>
    private static double Decrypt(long bytes)
    {
        using var gcm = new AesGcm(RandomNumberGenerator.GetBytes(32), tagSizeInBytes: 16);
        var nonce = new byte[12];
        var plain = RandomNumberGenerator.GetBytes(RecordBytes);
        var cipher = new byte[RecordBytes];
        var tag = new byte[16];
        gcm.Encrypt(nonce, plain, cipher, tag);
        for (int i = 0; i < 1000; i++)
        {
            gcm.Decrypt(nonce, cipher, tag, plain); // warm-up: JIT and OpenSSL's first calls
        }

        double start = Proc.ThreadCpuSeconds();
        for (long done = 0; done < bytes; done += RecordBytes)
        {
            gcm.Decrypt(nonce, cipher, tag, plain);
        }

        return Proc.ThreadCpuSeconds() - start;
    }

    /// <summary>
    /// The calling thread's CPU seconds to receive <paramref name="bytes"/> on one loopback
    /// connection and send them on another, while a feeder and a sink thread keep both ends busy.
    /// </summary>
    private static double Relay(long bytes)
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(2);
        using var feeder = Connect(listener, out var input);
        using var output = Connect(listener, out var sink);
        using (input)
        using (sink)
        {
            var feed = Task.Run(() =>
            {
                var chunk = new byte[64 * 1024];
                for (long sent = 0; sent < bytes; sent += chunk.Length)
                {
                    feeder.Send(chunk);
                }

                feeder.Shutdown(SocketShutdown.Send);
            });
            var drain = Task.Run(() =>
            {
                var buffer = new byte[1 << 20];
                while (sink.Receive(buffer) > 0)
                {
                }
            });

            var received = new byte[ReadAheadStream.ReadAheadBytes];
            double start = Proc.ThreadCpuSeconds();
            int read;
            while ((read = input.Receive(received)) > 0)
            {
                for (int offset = 0; offset < read; offset += ProtocolLimits.MaxPayloadSize)
                {
                    output.Send(received.AsSpan(offset, Math.Min(ProtocolLimits.MaxPayloadSize, read - offset)));
                }
            }

            double cpu = Proc.ThreadCpuSeconds() - start;
            output.Shutdown(SocketShutdown.Send);
            Task.WaitAll(feed, drain);
            return cpu;
        }
    }

    /// <summary>A connection to <paramref name="listener"/>: the client end, and the accepted end in <paramref name="accepted"/>.</summary>
    private static Socket Connect(Socket listener, out Socket accepted)
    {
        var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        client.Connect(listener.LocalEndPoint!);
        accepted = listener.Accept();
        foreach (var socket in new[] { client, accepted })
        {
            socket.ReceiveTimeout = socket.SendTimeout = (int)IoTimeout.TotalMilliseconds;
        }

        return client;
    }
}
