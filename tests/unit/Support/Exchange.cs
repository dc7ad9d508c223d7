using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Security.Cryptography;

namespace AwsTunnel.Tests.Support;

/// <summary>What one end of a connection sent and received, as SHA-256 hashes and counts.</summary>
public sealed record ExchangeResult(string SentHash, string ReceivedHash, long Sent, long Received);

/// <summary>
/// Full-duplex traffic: each end writes <c>bytes</c> of seeded random data in random chunk
/// sizes while reading what the other end writes, hashing both directions.
/// </summary>
public static class Exchange
{
    public static async Task<ExchangeResult> RunAsync(Socket socket, long bytes, int seed, CancellationToken cancellationToken)
    {
        var sending = SendAsync(socket, bytes, seed, cancellationToken);
        var receiving = ReceiveAsync(socket, bytes, cancellationToken);
        await Task.WhenAll(sending, receiving);
        return new ExchangeResult(sending.Result.Hash, receiving.Result.Hash, sending.Result.Count, receiving.Result.Count);
    }

    private static async Task<(string Hash, long Count)> SendAsync(Socket socket, long bytes, int seed, CancellationToken cancellationToken)
    {
        var random = new Random(seed);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[100_000];
        long sent = 0;
        while (sent < bytes)
        {
            int chunk = (int)Math.Min(bytes - sent, random.Next(1, buffer.Length));
            random.NextBytes(buffer.AsSpan(0, chunk));
            hash.AppendData(buffer, 0, chunk);
            int offset = 0;
            while (offset < chunk)
            {
                offset += await socket.SendAsync(buffer.AsMemory(offset, chunk - offset), SocketFlags.None, cancellationToken);
            }

            sent += chunk;
        }

        return (Convert.ToHexString(hash.GetHashAndReset()), sent);
    }

    private static async Task<(string Hash, long Count)> ReceiveAsync(Socket socket, long bytes, CancellationToken cancellationToken)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[128 * 1024];
        long received = 0;
        while (received < bytes)
        {
            int read = await socket.ReceiveAsync(buffer, SocketFlags.None, cancellationToken);
            if (read == 0)
            {
                break;
            }

            hash.AppendData(buffer, 0, read);
            received += read;
        }

        return (Convert.ToHexString(hash.GetHashAndReset()), received);
    }
}

/// <summary>A destination target that runs <see cref="Exchange"/> on every accepted connection.</summary>
public sealed class ExchangeServer : IAsyncDisposable
{
    private readonly LoopbackAcceptor _acceptor;
    private readonly long _bytes;
    private int _seed = 1000;

    public ExchangeServer(long bytesPerConnection)
    {
        _bytes = bytesPerConnection;
        _acceptor = new LoopbackAcceptor(socket =>
        {
            _ = ServeAsync(socket, Interlocked.Increment(ref _seed));
            return Task.CompletedTask;
        });
    }

    public int Port => _acceptor.Port;

    /// <summary>One result per finished connection.</summary>
    public ConcurrentBag<ExchangeResult> Results { get; } = new();

    private async Task ServeAsync(Socket socket, int seed)
    {
        using (socket)
        {
            try
            {
                Results.Add(await Exchange.RunAsync(socket, _bytes, seed, _acceptor.Stopping));
            }
            catch (Exception)
            {
                // Counted as missing: the test compares result counts.
            }
        }
    }

    public ValueTask DisposeAsync()
    {
        _acceptor.Dispose();
        return ValueTask.CompletedTask;
    }
}
