namespace AwsTunnel.Engine.Protocol;

/// <summary>Sizes fixed by the secure tunneling protocol.</summary>
public static class ProtocolLimits
{
    /// <summary>Bytes of the big-endian length prefix in front of every tunneling frame.</summary>
    public const int LengthPrefixSize = 2;

    /// <summary>Largest tunneling frame, prefix included.</summary>
    public const int MaxFrameSize = 65536;

    /// <summary>Largest protobuf message body (a frame less its prefix).</summary>
    public const int MaxMessageSize = MaxFrameSize - LengthPrefixSize;

    /// <summary>Largest payload one DATA message may carry (63 KiB).</summary>
    public const int MaxPayloadSize = 64512;

    /// <summary>Largest WebSocket frame payload either way.</summary>
    public const int MaxWebSocketFrameSize = 131076;
}
