using System.Buffers;
using System.Text;
using AwsTunnel.Engine.Protocol;
using FsCheck;
using FsCheck.Xunit;
using Google.Protobuf;

namespace AwsTunnel.Tests.Protocol;

/// <summary>
/// Differential properties: the pooled-payload overload of FrameDecoder.TryReadFrame decodes
/// exactly what the plain Google.Protobuf one does (Equal messages, or the same exception),
/// whatever the bytes and however the pipe cut them into segments.
/// Generation is seeded from FsCheck's integers, so a failure names a seed that replays it.
/// </summary>
public class PooledFrameDecoderProperties
{
    [Property(MaxTest = 300)]
    public void Valid_messages_in_any_field_order_and_any_segmentation_decode_the_same(int seed, bool strict)
    {
        var random = new Random(seed);
        var message = RandomMessage(random);
        var frame = WireBytes.FrameOf(ShuffledEncoding(message, random));

        var result = DecoderDifferential.AssertAgree(RandomSegments(frame, random), strict);

        Assert.True(result.Complete, $"seed {seed}: a valid frame did not decode: {result}");
        Assert.Equal(message, result.Message);
        Assert.Equal(message.Payload.Length > 0, result.Pooled);
    }

    [Property(MaxTest = 1000)]
    public void Mutated_valid_bodies_decode_the_same(int seed)
    {
        var random = new Random(seed);
        var body = ShuffledEncoding(RandomMessage(random, maxPayload: random.Next(4) == 0 ? 65000 : 300), random).ToList();
        int mutations = random.Next(1, 5);
        for (int i = 0; i < mutations; i++)
        {
            Mutate(body, random);
        }

        var frame = WireBytes.FrameOf(body.Take(ProtocolLimits.MaxMessageSize + 1).ToArray());

        DecoderDifferential.AssertAgreeBothModes(RandomSegments(frame, random));
    }

    [Property(MaxTest = 2000)]
    public void Random_bodies_decode_the_same(int seed)
    {
        var random = new Random(seed);
        var body = new byte[random.Next(0, 200)];
        if (random.Next(2) == 0)
        {
            random.NextBytes(body);
        }
        else
        {
            // Bytes protobuf gives meaning to: tags of the message's fields in every wire type,
            // small lengths, continuation bits, group markers.
            byte[] alphabet = [0x08, 0x10, 0x18, 0x20, 0x22, 0x23, 0x24, 0x2A, 0x32, 0x38, 0x0A, 0x0B, 0x0C, 0x25, 0x21, 0x00, 0x01, 0x02, 0x03, 0x7F, 0x80, 0xFF, 0xA2, 0x41];
            for (int i = 0; i < body.Length; i++)
            {
                body[i] = alphabet[random.Next(alphabet.Length)];
            }
        }

        DecoderDifferential.AssertAgreeBothModes(RandomSegments(WireBytes.FrameOf(body), random));
    }

    [Property(MaxTest = 500)]
    public void Arbitrary_fscheck_bytes_as_a_body_decode_the_same(byte[] body, bool strict)
    {
        DecoderDifferential.AssertAgree(new ReadOnlySequence<byte>(WireBytes.FrameOf(body)), strict);
    }

    // ---- generators -------------------------------------------------------------------------

    internal static Message RandomMessage(Random random, int maxPayload = 65000)
    {
        var message = new Message
        {
            Type = (Message.Types.Type)Pick(random, 0, 1, 1, 1, 2, 3, 4, 5, 6, 7, 9, 42, -1),
            StreamId = Pick(random, 0, 1, 2, 127, 128, -1, int.MaxValue, int.MinValue, random.Next()),
            Ignorable = random.Next(2) == 0,
            ServiceId = random.Next(3) == 0 ? string.Empty : RandomString(random),
            ConnectionId = (uint)Pick(random, 0, 1, 2, 300, -1, random.Next()),
        };
        int services = random.Next(4) == 0 ? random.Next(0, 6) : 0;
        for (int i = 0; i < services; i++)
        {
            message.AvailableServiceIds.Add(RandomString(random));
        }

        int size = Pick(random, 0, 0, 1, 127, 128, 1024, random.Next(0, maxPayload + 1), random.Next(0, 300));
        var payload = new byte[Math.Min(size, maxPayload)];
        random.NextBytes(payload);
        message.Payload = ByteString.CopyFrom(payload);
        return message;
    }

    /// <summary>Unicode service ids: ASCII, accents, CJK, emoji (surrogate pairs), up to 20 characters.</summary>
    private static string RandomString(Random random)
    {
        string[] pieces = ["S", "SSH1", "é", "ß", "服务", "🚀", "ü", "_", "-", "0", "Ω", "\u0000", "a"];
        var sb = new StringBuilder();
        int count = random.Next(1, 8);
        for (int i = 0; i < count; i++)
        {
            sb.Append(pieces[random.Next(pieces.Length)]);
        }

        return sb.ToString();
    }

    /// <summary>
    /// The message's fields each encoded alone (as Google.Protobuf would) and concatenated in a random
    /// order: a valid encoding of the same message, with the payload first, last or anywhere between.
    /// </summary>
    internal static byte[] ShuffledEncoding(Message message, Random random)
    {
        var fields = new List<byte[]>();
        void Add(Message single)
        {
            var bytes = single.ToByteArray();
            if (bytes.Length > 0)
            {
                fields.Add(bytes);
            }
        }

        Add(new Message { Type = message.Type });
        Add(new Message { StreamId = message.StreamId });
        Add(new Message { Ignorable = message.Ignorable });
        Add(new Message { Payload = message.Payload });
        Add(new Message { ServiceId = message.ServiceId });
        foreach (string id in message.AvailableServiceIds)
        {
            var one = new Message();
            one.AvailableServiceIds.Add(id);
            Add(one);
        }

        Add(new Message { ConnectionId = message.ConnectionId });

        // Repeated entries keep their relative order (it is part of the message); the rest move freely.
        var order = fields.Select((f, i) => (f, key: random.Next())).OrderBy(x => x.key).Select(x => x.f).ToList();
        var repeated = fields.Where(f => f[0] == 0x32).ToList();
        int next = 0;
        for (int i = 0; i < order.Count; i++)
        {
            if (order[i][0] == 0x32)
            {
                order[i] = repeated[next++];
            }
        }

        return order.SelectMany(f => f).ToArray();
    }

    private static void Mutate(List<byte> body, Random random)
    {
        switch (random.Next(5))
        {
            case 0 when body.Count > 0:
                body[random.Next(body.Count)] = (byte)random.Next(256);
                break;
            case 1:
                var inserted = new byte[random.Next(1, 9)];
                random.NextBytes(inserted);
                body.InsertRange(random.Next(body.Count + 1), inserted);
                break;
            case 2 when body.Count > 0:
                int start = random.Next(body.Count);
                body.RemoveRange(start, random.Next(1, Math.Min(8, body.Count - start) + 1));
                break;
            case 3 when body.Count > 0:
                int cut = Math.Min(body.Count, random.Next(1, 4));
                body.RemoveRange(body.Count - cut, cut);
                break;
            default:
                // A well-formed extra field: another payload, an unknown field, an explicit default, or a group.
                var extra = new WireBytes();
                switch (random.Next(5))
                {
                    case 0: extra.Payload(new byte[random.Next(0, 5)]); break;
                    case 1: extra.VarintField(random.Next(8, 40), (ulong)random.Next()); break;
                    case 2: extra.VarintField(random.Next(1, 4), 0); break;
                    case 3: extra.Tag(random.Next(1, 9), WireBytes.StartGroup).VarintField(4, 1).Tag(random.Next(1, 9), WireBytes.EndGroup); break;
                    default: extra.VarintField(4, (ulong)random.Next(0, 300)); break;
                }

                body.InsertRange(FieldBoundary(body, random), extra.Body());
                break;
        }
    }

    /// <summary>A random offset, or 0 or the end: field boundaries the mutated body surely has.</summary>
    private static int FieldBoundary(List<byte> body, Random random) => random.Next(3) switch
    {
        0 => 0,
        1 => body.Count,
        _ => random.Next(body.Count + 1),
    };

    /// <summary>The frame as 1 to 6 segments cut at random points (empty segments included).</summary>
    internal static ReadOnlySequence<byte> RandomSegments(byte[] frame, Random random)
    {
        var cuts = Enumerable.Range(0, random.Next(0, 6)).Select(_ => random.Next(frame.Length + 1)).Order().ToList();
        return FrameStreams.Sequence(FrameStreams.Cut(frame, cuts));
    }

    private static T Pick<T>(Random random, params T[] choices) => choices[random.Next(choices.Length)];
}
