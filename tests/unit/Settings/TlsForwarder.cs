using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;

namespace AwsTunnel.Tests.Settings;

/// <summary>
/// A TLS front on loopback: accepts TLS with a given certificate (and chain) and forwards the
/// plain bytes to a loopback port. Puts a CA-signed certificate in front of the local tunneling
/// service or in front of tinyproxy (an https:// proxy).
/// </summary>
public sealed class TlsForwarder : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly SslStreamCertificateContext _context;
    private readonly int _targetPort;
    private readonly List<Task> _connections = new();
    private readonly Task _accepting;

    public TlsForwarder(X509Certificate2 certificate, int targetPort, X509Certificate2? intermediate = null)
    {
        _context = SslStreamCertificateContext.Create(certificate,
            intermediate is null ? null : new X509Certificate2Collection(intermediate), offline: true);
        _targetPort = targetPort;
        _listener.Start();
        _accepting = AcceptLoopAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>Why the last TLS handshake with a client failed, if one did.</summary>
    public string? LastHandshakeError { get; private set; }

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptSocketAsync(_stop.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            lock (_connections)
            {
                _connections.Add(ForwardAsync(client));
            }
        }
    }

    private async Task ForwardAsync(Socket client)
    {
        using var tls = new SslStream(new NetworkStream(client, ownsSocket: true));
        using var upstream = new Socket(SocketType.Stream, ProtocolType.Tcp);
        try
        {
            using var handshake = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
            handshake.CancelAfter(TimeSpan.FromSeconds(10));
            await tls.AuthenticateAsServerAsync(new SslServerAuthenticationOptions { ServerCertificateContext = _context }, handshake.Token);
        }
        catch (Exception ex)
        {
            LastHandshakeError = ex.Message;
            return;
        }

        try
        {
            await upstream.ConnectAsync(IPAddress.Loopback, _targetPort, _stop.Token);
            using var plain = new NetworkStream(upstream, ownsSocket: false);
            var up = PumpAsync(tls, plain);
            var down = PumpAsync(plain, tls);
            await Task.WhenAny(up, down);
        }
        catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
        }
    }

    private async Task PumpAsync(Stream from, Stream to)
    {
        var buffer = new byte[16384];
        try
        {
            int read;
            while ((read = await from.ReadAsync(buffer, _stop.Token)) > 0)
            {
                await to.WriteAsync(buffer.AsMemory(0, read), _stop.Token);
                await to.FlushAsync(_stop.Token);
            }
        }
        catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Stop();
        await _accepting;
        Task[] open;
        lock (_connections)
        {
            open = _connections.ToArray();
        }

        await Task.WhenAll(open).WaitAsync(TimeSpan.FromSeconds(5)).ContinueWith(_ => { });
        _stop.Dispose();
    }
}
