using System.Buffers;
using System.Buffers.Binary;
using Google.Protobuf;

namespace AwsTunnel.Engine.Protocol;

/// <summary>
/// Cuts tunneling frames (2-byte big-endian length + protobuf message) out of a byte
/// stream whose chunking has nothing to do with frame boundaries.
/// </summary>
public static class FrameDecoder
{
    /// <summary>
    /// Reads one whole frame from the front of <paramref name="buffer"/> and advances it past
    /// the frame. Returns false, leaving the buffer as it was, when the frame is not complete yet.
    /// </summary>
    /// <exception cref="TunnelProtocolException">the prefix announces an impossible size, or the body is not a valid message.</exception>
    public static bool TryReadFrame(ref ReadOnlySequence<byte> buffer, out Message message) =>
        TryReadFrame(ref buffer, out message, strict: false);

    /// <summary>
    /// As <see cref="TryReadFrame(ref ReadOnlySequence{byte}, out Message)"/>; with
    /// <paramref name="strict"/>, a message carrying unknown fields (or non-canonical encodings)
    /// is refused, as the service does: its canonical size then differs from the frame's.
    /// </summary>
    public static bool TryReadFrame(ref ReadOnlySequence<byte> buffer, out Message message, bool strict)
    {
        message = null!;
        if (buffer.Length < ProtocolLimits.LengthPrefixSize)
        {
            return false;
        }

        int length = ReadLength(buffer);
        if (length > ProtocolLimits.MaxMessageSize)
        {
            throw new TunnelProtocolException(
                $"Frame length prefix {length} exceeds the protocol maximum of {ProtocolLimits.MaxMessageSize} bytes.");
        }

        if (buffer.Length < ProtocolLimits.LengthPrefixSize + length)
        {
            return false;
        }

        var body = buffer.Slice(ProtocolLimits.LengthPrefixSize, length);
        message = Parse(body);
        if (strict && message.CalculateSize() != length)
        {
            throw new TunnelProtocolException(
                $"A {message.Type} message carries unknown fields or a non-canonical encoding ({length} bytes, {message.CalculateSize()} when re-encoded); extending the schema is not allowed.");
        }

        buffer = buffer.Slice(body.End);
        return true;
    }

    private static int ReadLength(ReadOnlySequence<byte> buffer)
    {
        var first = buffer.FirstSpan;
        if (first.Length >= ProtocolLimits.LengthPrefixSize)
        {
            return BinaryPrimitives.ReadUInt16BigEndian(first);
        }

        Span<byte> prefix = stackalloc byte[ProtocolLimits.LengthPrefixSize];
        buffer.Slice(0, ProtocolLimits.LengthPrefixSize).CopyTo(prefix);
        return BinaryPrimitives.ReadUInt16BigEndian(prefix);
    }

    /// <summary>Unknown fields are skipped, not kept: a proxy ignores them, and keeping them costs memory.</summary>
    private static readonly MessageParser<Message> Parser = Message.Parser.WithDiscardUnknownFields(true);

    private static Message Parse(ReadOnlySequence<byte> body)
    {
        Message message;
        try
        {
            message = Parser.ParseFrom(body);
        }
        catch (InvalidProtocolBufferException ex)
        {
            throw new TunnelProtocolException($"Malformed tunneling message ({body.Length} bytes): {ex.Message}", ex);
        }

        // Non-canonical varints (e.g. a negative int32 in 5 bytes) can make a message that fits
        // in a frame re-encode larger than one, which could then not be forwarded or answered.
        int canonical = message.CalculateSize();
        if (canonical > ProtocolLimits.MaxMessageSize)
        {
            throw new TunnelProtocolException(
                $"A {message.Type} message of {body.Length} bytes re-encodes to {canonical} bytes, over the protocol maximum of {ProtocolLimits.MaxMessageSize} (non-canonical encoding).");
        }

        return message;
    }
}
