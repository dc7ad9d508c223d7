namespace AwsTunnel.Engine.Protocol;

/// <summary>A version of the tunneling protocol, as negotiated by WebSocket subprotocol.</summary>
public enum ProtocolVersion
{
    /// <summary>One stream, no service ids (aws.iot.securetunneling-1.0).</summary>
    V1 = 1,
    /// <summary>Several services, one TCP connection each (aws.iot.securetunneling-2.0).</summary>
    V2 = 2,
    /// <summary>Several simultaneous connections per service (aws.iot.securetunneling-3.0).</summary>
    V3 = 3,
}

/// <summary>Maps protocol versions to and from their WebSocket subprotocol names.</summary>
public static class Subprotocols
{
    public const string V1 = "aws.iot.securetunneling-1.0";
    public const string V2 = "aws.iot.securetunneling-2.0";
    public const string V3 = "aws.iot.securetunneling-3.0";

    /// <summary>Subprotocols a client offers, most preferred first.</summary>
    public static IReadOnlyList<string> OfferedFrom(ProtocolVersion highest) => highest switch
    {
        ProtocolVersion.V3 => new[] { V3, V2, V1 },
        ProtocolVersion.V2 => new[] { V2, V1 },
        _ => new[] { V1 },
    };

    public static string NameOf(ProtocolVersion version) => version switch
    {
        ProtocolVersion.V1 => V1,
        ProtocolVersion.V2 => V2,
        ProtocolVersion.V3 => V3,
        _ => throw new ArgumentOutOfRangeException(nameof(version), version, "Unknown protocol version."),
    };

    public static bool TryParse(string? name, out ProtocolVersion version)
    {
        switch (name)
        {
            case V1: version = ProtocolVersion.V1; return true;
            case V2: version = ProtocolVersion.V2; return true;
            case V3: version = ProtocolVersion.V3; return true;
            default: version = default; return false;
        }
    }
}
