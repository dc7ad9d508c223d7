using System.Buffers.Binary;
using AwsTunnel.Engine.Protocol;
using Google.Protobuf;

namespace AwsTunnel.Fuzz;

/// <summary>
/// The seed corpus, written by <c>--write-corpus DIR</c> so it can be made again byte for byte.
/// Every seed is a fuzz input: a chunking header (see <see cref="Chunking"/>) and a byte stream.
/// </summary>
public static class Corpus
{
    private const byte Whole = 0x00;
    private const byte Bytewise = 0x01;
    private const byte Fixed = 0x02;
    private const byte Explicit = 0x03;
    private const byte Random = 0x04;
    private const byte Pairs = 0x05;

    public static IReadOnlyList<(string Name, byte[] Bytes)> Seeds()
    {
        var data = Messages.Data(1, "SSH1", 1, ByteString.CopyFromUtf8("SSH-2.0-OpenSSH_9.6\r\n"));
        var seeds = new List<(string, byte[])>
        {
            ("01-data.bin", Input(Whole, Frame(data))),
            ("02-stream-start.bin", Input(Whole, Frame(Messages.StreamStart(1, "SSH1", 1)))),
            ("03-stream-reset.bin", Input(Whole, Frame(Messages.StreamReset(1, "SSH1")))),
            ("04-session-reset.bin", Input(Whole, Frame(Messages.SessionReset()))),
            ("05-service-ids.bin", Input(Whole, Frame(Messages.ServiceIds(["SSH1", "RDP2", "HTTP3"])))),
            ("06-connection-start.bin", Input(Whole, Frame(Messages.ConnectionStart(7, "SSH1", 2)))),
            ("07-connection-reset.bin", Input(Whole, Frame(Messages.ConnectionReset(7, "SSH1", 2)))),
            ("08-unknown-type-ignorable.bin", Input(Whole, Frame(new Message { Type = (Message.Types.Type)9, Ignorable = true, StreamId = 1 }))),
            ("09-unknown-type.bin", Input(Whole, Frame(new Message { Type = (Message.Types.Type)42, StreamId = 1 }))),
            ("10-type-zero.bin", Input(Whole, Frame(new Message { StreamId = 1, Payload = ByteString.CopyFromUtf8("x") }))),
            ("11-data-stream-id-zero.bin", Input(Whole, Frame(Messages.Data(0, "SSH1", 1, ByteString.CopyFromUtf8("x"))))),
            ("12-empty-frame.bin", Input(Whole, [0x00, 0x00])),
            // DATA plus field 15 (varint 1) and field 16 (bytes "zz"): unknown fields are kept by protobuf.
            ("13-unknown-fields.bin", Input(Whole, FrameOfBody([.. Frame(data)[2..], 0x78, 0x01, 0x82, 0x01, 0x02, (byte)'z', (byte)'z']))),
            ("14-negative-stream-id.bin", Input(Whole, Frame(Messages.Data(-5, "SSH1", 1, ByteString.CopyFromUtf8("x"))))),
            ("15-data-v1-no-service-id.bin", Input(Whole, Frame(Messages.Data(3, "", 0, ByteString.CopyFrom(new byte[300]))))),
            ("20-multi-frame.bin", Input(Whole, Session())),
            ("21-split-bytewise.bin", Input(Bytewise, Session())),
            ("22-split-fixed-3.bin", Input([Fixed, 0x02], Session())),
            ("23-split-explicit.bin", Input([Explicit, 0x06, 1, 0, 3, 7, 0, 40], Session())),
            ("24-split-random.bin", Input([Random | (5 << 3), 0x12, 0x34], Session())),
            ("25-split-prefix-pairs.bin", Input(Pairs, Session())),
            ("26-frame-split-in-prefix.bin", Input([Explicit, 0x01, 1], Frame(data))),
            ("30-oversized-prefix.bin", Input(Whole, [0xFF, 0xFF, 0x08, 0x01])),
            ("31-oversized-prefix-after-frame.bin", Input(Bytewise, [.. Frame(data), 0xFF, 0xFF])),
            ("32-max-prefix-short-body.bin", Input(Whole, [0xFF, 0xFE, 0x08, 0x01, 0x10, 0x01])),
            ("33-truncated-body.bin", Input(Whole, Frame(data)[..^3])),
            ("34-truncated-prefix.bin", Input(Whole, [0x00])),
            ("35-malformed-body-wire-type-7.bin", Input(Whole, FrameOfBody([0x08, 0x01, 0x0F, 0x00]))),
            ("36-truncated-varint.bin", Input(Whole, FrameOfBody([0x08, 0xFF]))),
            ("37-length-past-body.bin", Input(Whole, FrameOfBody([0x22, 0x7F, 0x41, 0x42]))),
            ("38-frame-then-garbage.bin", Input(Whole, [.. Frame(data), 0x00, 0x03, 0xFF, 0xFF, 0xFF])),
            ("39-deep-groups.bin", Input(Whole, FrameOfBody([.. Enumerable.Repeat((byte)0x43, 120), .. Enumerable.Repeat((byte)0x44, 120)]))),
        };

        return seeds;
    }

    /// <summary>Inputs made by reasoning about the code rather than found by the fuzzer; each breaks a property.</summary>
    public static IReadOnlyList<(string Name, byte[] Bytes)> Regressions()
    {
        // A DATA message that CheckSentByProxy accepts and whose body is exactly the 65534-byte maximum,
        // with its stream id (-1) encoded as a 5-byte varint, which protobuf accepts. It re-encodes with the
        // canonical 10-byte form of a negative int32: 65539 bytes, over the frame limit.
        var body = new List<byte> { 0x08, 0x01, 0x10, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 0x38, 0x01 };
        const int payload = ProtocolLimits.MaxPayloadSize;
        int serviceIdLength = ProtocolLimits.MaxMessageSize - body.Count - (1 + VarintLength(payload) + payload) - 1;
        serviceIdLength -= VarintLength(serviceIdLength);
        body.Add(0x2A);
        AddVarint(body, serviceIdLength);
        body.AddRange(Enumerable.Repeat((byte)'S', serviceIdLength));
        body.Add(0x22);
        AddVarint(body, payload);
        body.AddRange(Enumerable.Repeat((byte)0xAB, payload));
        if (body.Count != ProtocolLimits.MaxMessageSize)
        {
            throw new InvalidOperationException($"The regression body is {body.Count} bytes, not {ProtocolLimits.MaxMessageSize}.");
        }

        return [("negative-stream-id-5-byte-varint-max-frame.bin", Input(Whole, FrameOfBody([.. body])))];
    }

    public static void Write(string directory)
    {
        Directory.CreateDirectory(directory);
        long total = 0;
        foreach (var (name, bytes) in Seeds())
        {
            File.WriteAllBytes(Path.Combine(directory, name), bytes);
            total += bytes.Length;
        }

        string regressions = Path.Combine(directory, "regressions");
        Directory.CreateDirectory(regressions);
        foreach (var (name, bytes) in Regressions())
        {
            File.WriteAllBytes(Path.Combine(regressions, name), bytes);
            total += bytes.Length;
        }

        Console.WriteLine($"Wrote {Seeds().Count} seeds and {Regressions().Count} regression inputs ({total} bytes) to {directory}.");
    }

    /// <summary>A short session: SERVICE_IDS, a stream and a connection, data both ways, resets.</summary>
    private static byte[] Session() =>
    [
        .. Frame(Messages.ServiceIds(["SSH1", "RDP2"])),
        .. Frame(Messages.StreamStart(1, "SSH1", 1)),
        .. Frame(Messages.ConnectionStart(1, "SSH1", 2)),
        .. Frame(Messages.Data(1, "SSH1", 1, ByteString.CopyFromUtf8("SSH-2.0-OpenSSH_9.6\r\n"))),
        .. Frame(Messages.Data(1, "SSH1", 2, ByteString.CopyFrom(Enumerable.Range(0, 200).Select(i => (byte)i).ToArray()))),
        .. Frame(Messages.Data(1, "RDP2", 1, ByteString.Empty)),
        .. Frame(Messages.ConnectionReset(1, "SSH1", 2)),
        .. Frame(Messages.StreamReset(1, "SSH1")),
        .. Frame(Messages.SessionReset()),
    ];

    private static int VarintLength(int value) => CodedOutputStream.ComputeUInt32Size((uint)value);

    private static void AddVarint(List<byte> bytes, int value)
    {
        uint v = (uint)value;
        while (v >= 0x80)
        {
            bytes.Add((byte)(v | 0x80));
            v >>= 7;
        }

        bytes.Add((byte)v);
    }

    private static byte[] Frame(Message message) => FrameEncoder.ToArray(message);

    private static byte[] FrameOfBody(byte[] body)
    {
        var frame = new byte[ProtocolLimits.LengthPrefixSize + body.Length];
        BinaryPrimitives.WriteUInt16BigEndian(frame, checked((ushort)body.Length));
        body.CopyTo(frame, ProtocolLimits.LengthPrefixSize);
        return frame;
    }

    private static byte[] Input(byte header, byte[] stream) => [header, .. stream];

    private static byte[] Input(byte[] header, byte[] stream) => [.. header, .. stream];
}
