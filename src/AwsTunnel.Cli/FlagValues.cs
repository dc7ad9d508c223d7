using AwsTunnel.Engine.Protocol;

namespace AwsTunnel.Cli;

/// <summary>Parses the enumerated flag values the way the reference proxy spells them.</summary>
internal static class FlagValues
{
    /// <summary><c>source</c>/<c>src</c> or <c>destination</c>/<c>dst</c>, any case.</summary>
    /// <exception cref="UsageException">anything else.</exception>
    public static TunnelMode ParseMode(string text, string flag) => text.Trim().ToLowerInvariant() switch
    {
        "source" or "src" => TunnelMode.Source,
        "destination" or "dst" => TunnelMode.Destination,
        _ => throw new UsageException($"{flag} '{text}' is not a mode. Give source (or src) or destination (or dst)."),
    };

    /// <summary><c>V1</c>, <c>V2</c> or <c>V3</c>, any case.</summary>
    /// <exception cref="UsageException">anything else.</exception>
    public static ProtocolVersion ParseProtocolVersion(string text, string flag) =>
        TryParseProtocolVersion(text, out var version)
            ? version
            : throw new UsageException($"{flag} '{text}' is not a protocol version. Give V1, V2 or V3.");

    /// <summary><c>V1</c>, <c>V2</c> or <c>V3</c>, any case; false for anything else.</summary>
    public static bool TryParseProtocolVersion(string text, out ProtocolVersion version)
    {
        (bool known, version) = text.Trim().ToUpperInvariant() switch
        {
            "V1" => (true, ProtocolVersion.V1),
            "V2" => (true, ProtocolVersion.V2),
            "V3" => (true, ProtocolVersion.V3),
            _ => (false, ProtocolVersion.V3),
        };
        return known;
    }
}
