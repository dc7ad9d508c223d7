using System.Buffers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using AwsTunnel.Engine.Protocol;

namespace AwsTunnel.Engine.Agent;

/// <summary>
/// One message from <c>$aws/things/THING/tunnels/notify</c>: what AWS IoT Secure Tunneling
/// publishes when a tunnel is opened for the thing (or its access token rotated):
/// <c>{"clientAccessToken":"…","clientMode":"destination","region":"us-east-1","services":["SSH"]}</c>.
/// An optional <c>tunnelId</c> (which the local tunneling service adds; AWS does not) lets the
/// agent tell two tunnels with the same services apart. The token is never part of
/// <see cref="ToString"/>.
/// </summary>
public sealed class TunnelNotification
{
    /// <summary>Larger payloads are refused unread: a real notification is a few hundred bytes.</summary>
    public const int MaxPayloadBytes = 64 * 1024;

    private TunnelNotification(string accessToken, string region, IReadOnlyList<string> services, string? tunnelId)
    {
        AccessToken = accessToken;
        Region = region;
        Services = services;
        TunnelId = tunnelId;
        TokenFingerprint = SHA256.HashData(Encoding.UTF8.GetBytes(accessToken));
    }

    /// <summary>The destination access token. Secret: never logged or formatted.</summary>
    internal string AccessToken { get; }

    /// <summary>A hash of the token, to recognise a repeated notification without keeping the token around twice.</summary>
    internal byte[] TokenFingerprint { get; }

    /// <summary>The region the tunnel was opened in.</summary>
    public string Region { get; }

    /// <summary>The tunnel's service ids, as opened (e.g. SSH, or SSH1 and HTTP).</summary>
    public IReadOnlyList<string> Services { get; }

    /// <summary>The tunnel id, when the publisher put one in the payload (the local service does).</summary>
    public string? TunnelId { get; }

    /// <summary>
    /// Which served tunnel this notification is about: the tunnel id when given; otherwise the
    /// region and the sorted services, so a rotated token for the same tunnel (AWS sends no id)
    /// replaces its destination instead of adding a second one.
    /// </summary>
    public string Key => TunnelId is not null
        ? "tunnel:" + TunnelId
        : $"services:{Region}:{string.Join(",", Services.Order(StringComparer.Ordinal))}";

    /// <summary>A description without the token.</summary>
    public override string ToString() =>
        $"{(TunnelId is null ? "tunnel" : "tunnel " + TunnelId)} in {Region} for [{string.Join(", ", Services)}]";

    /// <summary>
    /// The payload AWS IoT publishes for a destination (plus <c>tunnelId</c>, which the local
    /// tunneling service adds). The token is in it: publish it, never log it.
    /// </summary>
    public static byte[] Format(string accessToken, string region, IReadOnlyList<string> services, string? tunnelId)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("clientAccessToken", accessToken);
            writer.WriteString("clientMode", TunnelMode.Destination.ToWire());
            writer.WriteString("region", region);
            writer.WriteStartArray("services");
            foreach (var service in services)
            {
                writer.WriteStringValue(service);
            }

            writer.WriteEndArray();
            if (tunnelId is not null)
            {
                writer.WriteString("tunnelId", tunnelId);
            }

            writer.WriteEndObject();
        }

        return buffer.ToArray();
    }

    /// <summary>The reserved topic AWS IoT publishes a thing's tunnel notifications on.</summary>
    public static string TopicFor(string thingName) => $"$aws/things/{thingName}/tunnels/notify";

    /// <summary>
    /// Reads a notify payload. Returns null and sets <paramref name="problem"/> (a sentence that
    /// never quotes the token) when the payload is not a usable destination notification.
    /// </summary>
    public static TunnelNotification? TryParse(ReadOnlySequence<byte> payload, out string? problem)
    {
        problem = null;
        if (payload.Length > MaxPayloadBytes)
        {
            problem = $"the payload is {payload.Length} bytes, more than the {MaxPayloadBytes} a notification may have";
            return null;
        }

        JsonDocument document;
        try
        {
            var reader = new Utf8JsonReader(payload);
            document = JsonDocument.ParseValue(ref reader);
        }
        catch (JsonException ex)
        {
            // Only the position: the parser's message may quote payload characters, which may be the token's.
            problem = $"the payload is not valid JSON (line {ex.LineNumber + 1}, byte {ex.BytePositionInLine + 1})";
            return null;
        }

        using (document)
        {
            return FromJson(document.RootElement, out problem);
        }
    }

    /// <inheritdoc cref="TryParse(ReadOnlySequence{byte}, out string?)"/>
    public static TunnelNotification? TryParse(byte[] payload, out string? problem) =>
        TryParse(new ReadOnlySequence<byte>(payload), out problem);

    private static TunnelNotification? FromJson(JsonElement root, out string? problem)
    {
        problem = null;
        if (root.ValueKind != JsonValueKind.Object)
        {
            problem = $"the payload is a JSON {root.ValueKind.ToString().ToLowerInvariant()}, not an object with clientAccessToken, clientMode, region and services";
            return null;
        }

        string? mode = ReadString(root, "clientMode", ref problem);
        string? token = ReadString(root, "clientAccessToken", ref problem);
        string? region = ReadString(root, "region", ref problem);
        string? tunnelId = ReadString(root, "tunnelId", ref problem);
        if (problem is not null)
        {
            return null;
        }

        if (mode is null)
        {
            problem = "it has no clientMode; a device is sent clientMode 'destination'";
            return null;
        }

        if (!string.Equals(mode, TunnelMode.Destination.ToWire(), StringComparison.Ordinal))
        {
            problem = $"its clientMode is '{Printable(mode)}', not 'destination': the agent only starts destinations (a source token belongs to the operator)";
            return null;
        }

        if (string.IsNullOrWhiteSpace(token))
        {
            problem = "it carries no clientAccessToken";
            return null;
        }

        if (string.IsNullOrWhiteSpace(region))
        {
            problem = "it names no region";
            return null;
        }

        var services = ReadServices(root, ref problem);
        if (services is null)
        {
            return null;
        }

        return new TunnelNotification(token, region.Trim(), services, string.IsNullOrWhiteSpace(tunnelId) ? null : tunnelId.Trim());
    }

    private static string? ReadString(JsonElement root, string name, ref string? problem)
    {
        if (!root.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.String)
        {
            problem ??= $"its {name} is a JSON {value.ValueKind.ToString().ToLowerInvariant()}, not a string";
            return null;
        }

        return value.GetString();
    }

    private static IReadOnlyList<string>? ReadServices(JsonElement root, ref string? problem)
    {
        if (!root.TryGetProperty("services", out var value) || value.ValueKind != JsonValueKind.Array)
        {
            problem = "it has no services list";
            return null;
        }

        var services = new List<string>();
        foreach (var item in value.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(item.GetString()))
            {
                problem = "its services list holds an entry that is not a service name";
                return null;
            }

            string id = item.GetString()!.Trim();
            if (services.Contains(id, StringComparer.Ordinal))
            {
                problem = $"its services list names '{Printable(id)}' twice";
                return null;
            }

            services.Add(id);
        }

        if (services.Count == 0)
        {
            problem = "its services list is empty";
            return null;
        }

        return services;
    }

    /// <summary>A short, single-line rendering of a payload value for a log line.</summary>
    internal static string Printable(string value)
    {
        var text = new string(value.Take(40).Select(c => char.IsControl(c) ? '?' : c).ToArray());
        return value.Length > 40 ? text + "…" : text;
    }
}
