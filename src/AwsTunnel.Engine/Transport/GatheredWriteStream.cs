namespace AwsTunnel.Engine.Transport;

/// <summary>
/// A WebSocket's stream over TLS, whose every write leaves in one socket send. SslStream writes
/// each TLS record (16 KiB of data) to the stream under it as soon as it is encrypted: a 64 KiB
/// WebSocket message took four sends, and woke the reader at the other end up to four times.
/// Here the records of one write are gathered in the <see cref="ReadAheadStream"/> under the TLS
/// (one copy) and sent together when the write ends. Reads go straight through.
/// </summary>
internal sealed class GatheredWriteStream : LayeredStream
{
    private readonly ReadAheadStream _transport;

    /// <param name="inner">The stream the WebSocket would use: TLS, or an HTTP connection's stream over it.</param>
    /// <param name="transport">The TCP stream under that TLS.</param>
    public GatheredWriteStream(Stream inner, ReadAheadStream transport)
        : base(inner)
    {
        _transport = transport;
    }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        Inner.ReadAsync(buffer, cancellationToken);

    public override int Read(Span<byte> buffer) => Inner.Read(buffer);

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> source, CancellationToken cancellationToken = default)
    {
        _transport.GatherWrites();
        try
        {
            await Inner.WriteAsync(source, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            // Also after a failed write: what was gathered goes out, as it would have unbuffered.
            await _transport.SendGatheredAsync(cancellationToken).ConfigureAwait(false);
        }
    }
}
