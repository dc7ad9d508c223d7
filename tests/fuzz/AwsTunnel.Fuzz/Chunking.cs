namespace AwsTunnel.Fuzz;

/// <summary>
/// Turns the front of a fuzz input into a WebSocket chunking of the rest: the first byte(s)
/// say where the received byte stream is cut, whatever the frame boundaries are.
/// </summary>
/// <remarks>
/// Input layout: <c>header | stream</c>. Byte 0 (<c>h</c>) picks the strategy with its low 3 bits:
/// <list type="table">
/// <item><term>0</term><description>the whole stream in one chunk (header: 1 byte)</description></item>
/// <item><term>1</term><description>one byte per chunk (1 byte)</description></item>
/// <item><term>2</term><description>fixed size <c>byte1 + 1</c> (2 bytes)</description></item>
/// <item><term>3</term><description>explicit: <c>n = byte1 &amp; 31</c>, then n sizes of 0..255 bytes each
/// (0 = an empty receive); the rest is the last chunk (2 + n bytes)</description></item>
/// <item><term>4</term><description>pseudo-random sizes 0..2^((h &gt;&gt; 3) &amp; 15) from the seed <c>byte1 byte2</c> (3 bytes)</description></item>
/// <item><term>5</term><description>2-byte chunks, so every length prefix may straddle a cut (1 byte)</description></item>
/// <item><term>6</term><description>16 KiB chunks, the size TunnelLink asks the WebSocket for (1 byte)</description></item>
/// <item><term>7</term><description>3-byte chunks (1 byte)</description></item>
/// </list>
/// A header cut short by the end of the input just leaves an empty stream.
/// The number of chunks is bounded (at most 2 * stream length + 64), so any input terminates.
/// </remarks>
public static class Chunking
{
    public const int TunnelLinkReceiveSize = 16 * 1024;

    /// <summary>Splits <paramref name="input"/> into its stream and the chunk sizes that cover that stream exactly.</summary>
    public static (ReadOnlyMemory<byte> Stream, int[] Chunks) Split(ReadOnlyMemory<byte> input)
    {
        if (input.IsEmpty)
        {
            return (ReadOnlyMemory<byte>.Empty, []);
        }

        var bytes = input.Span;
        byte h = bytes[0];
        int strategy = h & 0x07;
        int headerLength = strategy switch
        {
            2 => 2,
            3 => bytes.Length >= 2 ? 2 + (bytes[1] & 0x1F) : 2,
            4 => 3,
            _ => 1,
        };

        if (bytes.Length < headerLength)
        {
            return (ReadOnlyMemory<byte>.Empty, []);
        }

        var stream = input[headerLength..];
        int length = stream.Length;
        var sizes = new List<int>();
        int maxChunks = 2 * length + 64;
        int covered = 0;

        void Add(int size)
        {
            size = Math.Min(size, length - covered);
            sizes.Add(size);
            covered += size;
        }

        switch (strategy)
        {
            case 0:
                break;
            case 1:
                while (covered < length) Add(1);
                break;
            case 2:
                int fixedSize = bytes[1] + 1;
                while (covered < length) Add(fixedSize);
                break;
            case 3:
                for (int i = 2; i < headerLength && covered < length; i++) Add(bytes[i]);
                break;
            case 4:
                uint state = (uint)(bytes[1] << 8 | bytes[2]) * 2654435761u | 1u;
                int max = 1 << ((h >> 3) & 0x0F);
                while (covered < length && sizes.Count < maxChunks - 1)
                {
                    state ^= state << 13;
                    state ^= state >> 17;
                    state ^= state << 5;
                    Add((int)(state % (uint)(max + 1)));
                }

                break;
            case 5:
                while (covered < length) Add(2);
                break;
            case 6:
                while (covered < length) Add(TunnelLinkReceiveSize);
                break;
            case 7:
                while (covered < length) Add(3);
                break;
        }

        if (covered < length || sizes.Count == 0)
        {
            sizes.Add(length - covered);
        }

        return (stream, sizes.ToArray());
    }
}
