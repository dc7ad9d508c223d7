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
        if (!TryCutBody(buffer, out var body))
        {
            return false;
        }

        message = Parse(body);
        CheckCanonical(message, body.Length, strict);
        buffer = buffer.Slice(body.End);
        return true;
    }

    /// <summary>
    /// As <see cref="TryReadFrame(ref ReadOnlySequence{byte}, out Message, bool)"/>, but a DATA
    /// payload is copied into a buffer rented from <see cref="ArrayPool{T}.Shared"/> rather than a
    /// new array: <paramref name="message"/>'s payload wraps <paramref name="rentedPayload"/>,
    /// which the caller owns from then on and returns to the pool once the payload is used (not
    /// returning it only costs the pool a buffer). Null when the message has no payload.
    /// <paramref name="pool"/> (default: the shared pool) is where the buffer comes from.
    /// </summary>
    public static bool TryReadFrame(ref ReadOnlySequence<byte> buffer, out Message message, out byte[]? rentedPayload, bool strict, ArrayPool<byte>? pool = null)
    {
        pool ??= ArrayPool<byte>.Shared;
        message = null!;
        rentedPayload = null;
        if (!TryCutBody(buffer, out var body))
        {
            return false;
        }

        if (!PayloadField.TryFind(body, out var payload))
        {
            message = Parse(body);
        }
        else
        {
            // Protobuf fields may come in any order and concatenated encodings merge, so the body
            // without its payload field parses to the same message, less the payload.
            message = Parse(SequenceJoin.Join(body.Slice(0, payload.FieldStart), body.Slice(payload.FieldEnd)), body.Length);
            rentedPayload = pool.Rent(payload.PayloadLength);
            body.Slice(payload.PayloadStart, payload.PayloadLength).CopyTo(rentedPayload);
            message.Payload = UnsafeByteOperations.UnsafeWrap(rentedPayload.AsMemory(0, payload.PayloadLength));
        }

        try
        {
            CheckCanonical(message, body.Length, strict);
        }
        catch
        {
            if (rentedPayload is not null)
            {
                pool.Return(rentedPayload);
                rentedPayload = null;
            }

            throw;
        }

        buffer = buffer.Slice(body.End);
        return true;
    }

    /// <summary>The body of the first frame, once it is complete.</summary>
    private static bool TryCutBody(ReadOnlySequence<byte> buffer, out ReadOnlySequence<byte> body)
    {
        body = default;
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

        body = buffer.Slice(ProtocolLimits.LengthPrefixSize, length);
        return true;
    }

    /// <summary>
    /// Non-canonical varints (e.g. a negative int32 in 5 bytes) can make a message that fits in a
    /// frame re-encode larger than one, which could then not be forwarded or answered. With
    /// <paramref name="strict"/>, any difference from the frame's size is refused.
    /// </summary>
    private static void CheckCanonical(Message message, long length, bool strict)
    {
        int canonical = message.CalculateSize();
        if (canonical > ProtocolLimits.MaxMessageSize)
        {
            throw new TunnelProtocolException(
                $"{MessageTypeName.AMessageOf(message.Type)} of {length} bytes re-encodes to {canonical} bytes, over the protocol maximum of {ProtocolLimits.MaxMessageSize} (non-canonical encoding).");
        }

        if (strict && canonical != length)
        {
            throw new TunnelProtocolException(
                $"{MessageTypeName.AMessageOf(message.Type)} carries unknown fields or a non-canonical encoding ({length} bytes, {canonical} when re-encoded); extending the schema is not allowed.");
        }
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

    private static Message Parse(ReadOnlySequence<byte> body, long frameLength = -1)
    {
        try
        {
            return Parser.ParseFrom(body);
        }
        catch (InvalidProtocolBufferException ex)
        {
            throw new TunnelProtocolException($"Malformed tunneling message ({(frameLength < 0 ? body.Length : frameLength)} bytes): {ex.Message}", ex);
        }
    }
}
