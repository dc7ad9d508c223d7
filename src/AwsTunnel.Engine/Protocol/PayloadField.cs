using System.Buffers;

namespace AwsTunnel.Engine.Protocol;

/// <summary>
/// Finds the DATA payload (field 4, length-delimited) in an encoded message by walking its
/// wire format, so the payload can be copied into a pooled buffer while Google.Protobuf parses
/// the rest. Anything unusual (a repeated or mistyped payload field, groups, overlong varints,
/// truncation) is reported as "not found": the caller then lets Google.Protobuf parse the whole
/// body, which decides what such input means.
/// </summary>
internal static class PayloadField
{
    private const int PayloadFieldNumber = 4;
    private const int LengthDelimited = 2;

    /// <summary>Where the payload field is: the whole field (tag to end) and its bytes.</summary>
    public readonly record struct Location(long FieldStart, long FieldEnd, long PayloadStart, int PayloadLength);

    /// <summary>True when the body holds exactly one well-formed, non-empty payload field.</summary>
    public static bool TryFind(ReadOnlySequence<byte> body, out Location location)
    {
        location = default;
        bool found = false;
        var reader = new SequenceReader<byte>(body);
        while (!reader.End)
        {
            long fieldStart = reader.Consumed;
            if (!TryReadVarint(ref reader, 5, out ulong tag) || tag > uint.MaxValue || (tag >> 3) == 0)
            {
                return false;
            }

            int wireType = (int)(tag & 7);
            bool isPayload = (tag >> 3) == PayloadFieldNumber;
            if (isPayload && (found || wireType != LengthDelimited))
            {
                return false;
            }

            switch (wireType)
            {
                case 0:
                    if (!TryReadVarint(ref reader, 10, out _))
                    {
                        return false;
                    }

                    break;
                case 1:
                    if (!TrySkip(ref reader, 8))
                    {
                        return false;
                    }

                    break;
                case LengthDelimited:
                    if (!TryReadVarint(ref reader, 5, out ulong length) || length > int.MaxValue || length > (ulong)reader.Remaining)
                    {
                        return false;
                    }

                    if (isPayload)
                    {
                        location = new Location(fieldStart, reader.Consumed + (long)length, reader.Consumed, (int)length);
                        found = length > 0;
                        if (!found)
                        {
                            return false;
                        }
                    }

                    reader.Advance((long)length);
                    break;
                case 5:
                    if (!TrySkip(ref reader, 4))
                    {
                        return false;
                    }

                    break;
                default:
                    return false;
            }
        }

        return found;
    }

    private static bool TrySkip(ref SequenceReader<byte> reader, int count)
    {
        if (reader.Remaining < count)
        {
            return false;
        }

        reader.Advance(count);
        return true;
    }

    private static bool TryReadVarint(ref SequenceReader<byte> reader, int maxBytes, out ulong value)
    {
        value = 0;
        for (int i = 0; i < maxBytes; i++)
        {
            if (!reader.TryRead(out byte b))
            {
                return false;
            }

            value |= (ulong)(b & 0x7F) << (7 * i);
            if (b < 0x80)
            {
                return true;
            }
        }

        return false;
    }
}
