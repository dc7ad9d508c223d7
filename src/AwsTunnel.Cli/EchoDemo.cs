using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using AwsTunnel.Engine.Protocol;
using AwsTunnel.Engine.Service;
using AwsTunnel.Engine.Tunnel;
using Microsoft.Extensions.Logging;

namespace AwsTunnel.Cli;

/// <summary>
/// The demo's story: a local service and a tunnel with one service, an echo server behind a
/// destination, a source in front, and random bytes sent through and compared by SHA-256.
/// </summary>
internal sealed class EchoDemo
{
    private const string ServiceId = "DEMO";
    private const int ChunkSize = 64 * 1024;
    private static readonly TimeSpan TransferLimit = TimeSpan.FromMinutes(2);

    private readonly CliContext _context;
    private readonly ILoggerFactory _loggerFactory;
    private readonly bool _tls;

    public EchoDemo(CliContext context, ILoggerFactory loggerFactory, bool tls)
    {
        _context = context;
        _loggerFactory = loggerFactory;
        _tls = tls;
    }

    public async Task<int> RunAsync(long bytes, CancellationToken cancellationToken)
    {
        var output = _context.Out;
        await using var service = new LocalTunnelService(new LocalTunnelServiceOptions { UseTls = _tls, LoggerFactory = _loggerFactory });
        await service.StartAsync(cancellationToken);
        output.WriteLine($"1. Local tunneling service listening on {service.Endpoint.GetLeftPart(UriPartial.Authority)}");

        var tunnel = service.CreateTunnel(new[] { ServiceId });
        output.WriteLine($"2. Opened tunnel {tunnel.TunnelId} with service {ServiceId}");

        await using var echo = new DemoEchoServer();
        output.WriteLine($"3. Echo server listening on {echo.EndPoint}");

        TunnelClient? destination = null;
        TunnelClient? source = null;
        try
        {
            destination = new TunnelClient(Options(service, TunnelMode.Destination, tunnel.DestinationAccessToken,
                new ServiceMapping(ServiceId, echo.EndPoint.Address.ToString(), echo.EndPoint.Port)));
            await destination.StartAsync(cancellationToken);
            output.WriteLine($"4. Destination connected over {destination.Protocol}, forwarding {ServiceId} to {echo.EndPoint}");

            source = new TunnelClient(Options(service, TunnelMode.Source, tunnel.SourceAccessToken, new ServiceMapping(ServiceId, null, 0)) with
            {
                BindAddress = IPAddress.Loopback.ToString(),
            });
            await source.StartAsync(cancellationToken);
            int port = source.Ports[ServiceId];
            output.WriteLine($"5. Source connected over {source.Protocol}, listening for {ServiceId} on 127.0.0.1:{port}");

            output.WriteLine($"6. Sending {bytes.ToString("N0", CultureInfo.InvariantCulture)} random bytes to 127.0.0.1:{port} and reading the echo");
            await output.FlushAsync(CancellationToken.None);
            return await TransferAsync(port, bytes, cancellationToken);
        }
        catch (TunnelStartException ex)
        {
            _context.WriteError(ex.Message);
            return ExitCodes.FromStartFailure(ex.Failure);
        }
        finally
        {
            if (source is not null)
            {
                await source.DisposeAsync();
            }

            if (destination is not null)
            {
                await destination.DisposeAsync();
            }
        }
    }

    private TunnelOptions Options(LocalTunnelService service, TunnelMode mode, string accessToken, ServiceMapping mapping) => new()
    {
        Mode = mode,
        ServiceUri = service.Endpoint,
        AccessToken = accessToken,
        Services = new[] { mapping },
        TrustedCertificates = service.Certificate is null ? null : new X509Certificate2Collection(service.Certificate),
        LoggerFactory = _loggerFactory,
    };

    private async Task<int> TransferAsync(int port, long bytes, CancellationToken cancellationToken)
    {
        var output = _context.Out;
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(TransferLimit);
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        var stopwatch = Stopwatch.StartNew();
        byte[] sentHash, receivedHash;
        long received;
        try
        {
            await client.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port), limit.Token);
            var sending = SendRandomAsync(client, bytes, limit.Token);
            var receiving = ReceiveAsync(client, bytes, limit.Token);
            sentHash = await sending;
            (receivedHash, received) = await receiving;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            _context.WriteError($"the echo did not come back within {TransferLimit.TotalSeconds:0} s.");
            return ExitCodes.Failure;
        }
        catch (SocketException ex)
        {
            _context.WriteError($"the connection through the tunnel failed: {ex.Message}");
            return ExitCodes.Failure;
        }

        stopwatch.Stop();
        double seconds = stopwatch.Elapsed.TotalSeconds;
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"7. Echoed {received:N0} bytes in {seconds:0.000} s ({bytes / seconds / 1_000_000:0.0} MB/s each way)"));
        output.WriteLine($"   SHA-256 sent:     {Convert.ToHexString(sentHash).ToLowerInvariant()}");
        output.WriteLine($"   SHA-256 received: {Convert.ToHexString(receivedHash).ToLowerInvariant()}");
        if (received != bytes || !sentHash.AsSpan().SequenceEqual(receivedHash))
        {
            _context.WriteError($"the echo differs from what was sent ({received:N0} of {bytes:N0} bytes came back).");
            return ExitCodes.Failure;
        }

        output.WriteLine("OK: the data crossed the tunnel both ways intact.");
        return ExitCodes.Success;
    }

    private static async Task<byte[]> SendRandomAsync(Socket socket, long bytes, CancellationToken cancellationToken)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var chunk = new byte[ChunkSize];
        for (long left = bytes; left > 0;)
        {
            int size = (int)Math.Min(chunk.Length, left);
            RandomNumberGenerator.Fill(chunk.AsSpan(0, size));
            hash.AppendData(chunk, 0, size);
            await socket.SendAsync(chunk.AsMemory(0, size), cancellationToken);
            left -= size;
        }

        return hash.GetHashAndReset();
    }

    /// <summary>Reads until every byte is back (or the echo ends early), hashing as it goes.</summary>
    private static async Task<(byte[] Hash, long Received)> ReceiveAsync(Socket socket, long bytes, CancellationToken cancellationToken)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[ChunkSize];
        long received = 0;
        while (received < bytes)
        {
            int read = await socket.ReceiveAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, bytes - received)), cancellationToken);
            if (read == 0)
            {
                break;
            }

            hash.AppendData(buffer, 0, read);
            received += read;
        }

        return (hash.GetHashAndReset(), received);
    }
}
