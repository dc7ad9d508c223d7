namespace AwsTunnel.Engine.Transport;

/// <summary>
/// A stream over another that changes how one side is read or written: everything it does not
/// change passes through to <see cref="Inner"/> (writes, flushes, time-outs, disposal), and it
/// never seeks. The array overloads go through the span and memory ones, so a layer that changes
/// those changes every read and write.
/// </summary>
internal abstract class LayeredStream : Stream
{
    protected LayeredStream(Stream inner) => Inner = inner;

    /// <summary>The stream under this one; disposed with it.</summary>
    protected Stream Inner { get; }

    public override bool CanRead => Inner.CanRead;
    public override bool CanWrite => Inner.CanWrite;
    public override bool CanSeek => false;
    public override bool CanTimeout => Inner.CanTimeout;
    public override int ReadTimeout { get => Inner.ReadTimeout; set => Inner.ReadTimeout = value; }
    public override int WriteTimeout { get => Inner.WriteTimeout; set => Inner.WriteTimeout = value; }
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Write(ReadOnlySpan<byte> source) => Inner.Write(source);

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Flush() => Inner.Flush();

    public override Task FlushAsync(CancellationToken cancellationToken) => Inner.FlushAsync(cancellationToken);

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            Inner.Dispose();
        }

        base.Dispose(disposing);
    }

    public override async ValueTask DisposeAsync()
    {
        await Inner.DisposeAsync().ConfigureAwait(false);
        GC.SuppressFinalize(this);
    }
}
