using System.Net;

namespace AwsTunnel.Engine.Transport;

/// <summary>
/// Gives <see cref="System.Net.WebSockets.ClientWebSocket"/> the upgraded TLS connection's stream
/// in a <see cref="GatheredWriteStream"/>, so each WebSocket message leaves in one socket send.
/// The WebSocket takes its stream from the 101 response's content: that content is swapped for
/// one that hands out the wrapped stream. Other responses, and connections without TLS (one
/// write per message already), are left as they are.
/// </summary>
internal sealed class GatheredUpgradeHandler : DelegatingHandler
{
    private readonly Func<ReadAheadStream?> _transport;

    /// <param name="inner">The handler that makes the connection.</param>
    /// <param name="transport">The TCP stream its connection callback made, once it has.</param>
    public GatheredUpgradeHandler(HttpMessageHandler inner, Func<ReadAheadStream?> transport)
        : base(inner)
    {
        _transport = transport;
    }

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.SwitchingProtocols
            && request.RequestUri?.Scheme is "https" or "wss"
            && _transport() is { } transport)
        {
            var connection = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            response.Content = new UpgradedContent(new GatheredWriteStream(connection, transport));
        }

        return response;
    }

    /// <summary>The 101 response's content: the connection itself, which the WebSocket reads and writes.</summary>
    private sealed class UpgradedContent : HttpContent
    {
        private readonly Stream _connection;

        public UpgradedContent(Stream connection) => _connection = connection;

        protected override Stream CreateContentReadStream(CancellationToken cancellationToken) => _connection;

        protected override Task<Stream> CreateContentReadStreamAsync() => Task.FromResult(_connection);

        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) =>
            throw new NotSupportedException("An upgraded connection is not content to copy.");

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _connection.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
