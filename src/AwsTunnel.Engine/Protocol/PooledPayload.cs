using System.Buffers;

namespace AwsTunnel.Engine.Protocol;

/// <summary>Payload buffers on the data path come from, and go back to, the shared pool.</summary>
internal static class PooledPayload
{
    /// <summary>Gives a payload buffer back to the pool; null (no payload) is allowed.</summary>
    public static void Return(byte[]? rented)
    {
        if (rented is not null)
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }
}
