using System.Buffers;
using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using AwsTunnel.Engine.Protocol;
using AwsTunnel.Engine.Service;

namespace AwsTunnel.Tests.Support;

/// <summary>
/// A stand-in for the tunneling service that a test drives by hand: it accepts one proxy's
/// WebSocket, then the test sends exactly the bytes it wants (valid or hostile) and reads
/// the messages the proxy sends.
/// </summary>
public sealed class ScriptedService : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly TaskCompletionSource<WebSocket> _accepted = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly string _subprotocol;
    private byte[] _pending = Array.Empty<byte>();

    public ScriptedService(string subprotocol = Subprotocols.V3)
    {
        _subprotocol = subprotocol;
        _listener.Start();
        _ = AcceptAsync();
    }

    public Uri Endpoint => new($"ws://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}");

    /// <summary>The proxy's WebSocket, once it has connected.</summary>
    public Task<WebSocket> Connected => _accepted.Task;

    public async Task SendAsync(params Message[] messages)
    {
        var writer = new ArrayBufferWriter<byte>();
        foreach (var message in messages)
        {
            FrameEncoder.Write(writer, message);
        }

        await SendRawAsync(writer.WrittenSpan.ToArray());
    }

    public async Task SendRawAsync(byte[] bytes, WebSocketMessageType type = WebSocketMessageType.Binary)
    {
        var socket = await Connected.WaitAsync(TimeSpan.FromSeconds(10));
        await socket.SendAsync(bytes, type, true, CancellationToken.None);
    }

    /// <summary>Reads the next message the proxy sent (within the timeout).</summary>
    public async Task<Message> ReceiveAsync(int timeoutMs = 10000)
    {
        var socket = await Connected.WaitAsync(TimeSpan.FromSeconds(10));
        using var cts = new CancellationTokenSource(timeoutMs);
        var buffer = new byte[256 * 1024];
        while (true)
        {
            var sequence = new ReadOnlySequence<byte>(_pending);
            if (FrameDecoder.TryReadFrame(ref sequence, out var message))
            {
                _pending = sequence.ToArray();
                return message;
            }

            var result = await socket.ReceiveAsync(buffer, cts.Token);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                throw new IOException($"The proxy closed the WebSocket: {socket.CloseStatus} {socket.CloseStatusDescription}");
            }

            _pending = _pending.Concat(buffer.Take(result.Count)).ToArray();
        }
    }

    /// <summary>Reads messages until one satisfies <paramref name="match"/>.</summary>
    public async Task<Message> ReceiveUntilAsync(Func<Message, bool> match, int timeoutMs = 10000)
    {
        var deadline = DateTime.UtcNow.AddMilliseconds(timeoutMs);
        while (true)
        {
            int left = (int)Math.Max(1, (deadline - DateTime.UtcNow).TotalMilliseconds);
            var message = await ReceiveAsync(left);
            if (match(message))
            {
                return message;
            }
        }
    }

    private async Task AcceptAsync()
    {
        try
        {
            var client = await _listener.AcceptTcpClientAsync();
            var stream = client.GetStream();
            var request = await HttpUpgradeRequest.ReadAsync(stream, CancellationToken.None);
            await HttpUpgradeRequest.WriteAcceptAsync(stream, request!.Header("Sec-WebSocket-Key")[0], _subprotocol, "scripted-channel", CancellationToken.None);
            _accepted.TrySetResult(WebSocket.CreateFromStream(stream, new WebSocketCreationOptions { IsServer = true, SubProtocol = _subprotocol }));
        }
        catch (Exception ex)
        {
            _accepted.TrySetException(ex);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _listener.Stop();
        if (_accepted.Task.IsCompletedSuccessfully)
        {
            _accepted.Task.Result.Abort();
            _accepted.Task.Result.Dispose();
        }

        await Task.CompletedTask;
    }
}
