using System.Globalization;
using AwsTunnel.Engine.Protocol;
using Microsoft.Extensions.Logging;

namespace AwsTunnel.Engine.Settings;

/// <summary>
/// The fine-grained setting keys, relative to <c>tunneling.proxy</c>, with how each maps to a
/// <see cref="ProxySettings"/> property and which values it accepts.
/// AwsTunnel-only keys (<c>awstunnel.connection_buffer_limit_bytes</c>,
/// <c>awstunnel.connection_stall_timeout_ms</c>, <c>awstunnel.tunnel_buffer_limit_bytes</c>, <c>awstunnel.websocket_socket_buffer_bytes</c>) live under <c>tunneling.proxy.awstunnel</c>,
/// which the reference proxy ignores.
/// </summary>
public static class ProxySettingKeys
{
    /// <summary>The JSON path every key is relative to.</summary>
    public const string Root = "tunneling.proxy";

    /// <summary>The map of per-region host overrides; in overrides, address one entry as <c>region_endpoint_overrides.REGION</c>.</summary>
    public const string RegionEndpointOverrides = "region_endpoint_overrides";

    private static readonly SettingKey[] Table =
    {
        Text("default_bind_address", "a host name or IP address", s => s.DefaultBindAddress, (s, v) => s with { DefaultBindAddress = v }),
        Text("endpoint_format", "a host name containing %s where the region goes, e.g. data.tunneling.iot.%s.amazonaws.com",
            s => s.EndpointFormat, (s, v) => s with { EndpointFormat = v }, v => v.Contains("%s", StringComparison.Ordinal)),
        Number("message.data_length_size", ProtocolLimits.LengthPrefixSize, ProtocolLimits.LengthPrefixSize,
            "2 (the only frame length prefix size the protocol has)", s => s.DataLengthSize, (s, v) => s with { DataLengthSize = v }),
        Number("message.max_payload_size", 1, ProtocolLimits.MaxPayloadSize, "a byte count from 1 to 64512 (63 KiB, the protocol's limit)",
            s => s.MaxPayloadSize, (s, v) => s with { MaxPayloadSize = v }, Tolerance.AboveToLimit),
        Number("message.max_size", 1, ProtocolLimits.MaxFrameSize, "a byte count from 1 to 65536 (the protocol's limit)",
            s => s.MaxMessageSize, (s, v) => s with { MaxMessageSize = v }, Tolerance.AboveToLimit),
        Number("tcp.connection_retry_count", -1, int.MaxValue, "a whole number of attempts, or -1 to retry forever",
            s => s.TcpConnectionRetryCount, (s, v) => s with { TcpConnectionRetryCount = v }),
        Number("tcp.connection_retry_delay_ms", 0, int.MaxValue, "a whole number of milliseconds, 0 or more",
            s => s.TcpConnectionRetryDelayMs, (s, v) => s with { TcpConnectionRetryDelayMs = v }),
        Number("tcp.max_active_connections", 1, int.MaxValue, "a whole number of connections, 1 or more",
            s => s.TcpMaxActiveConnections, (s, v) => s with { TcpMaxActiveConnections = v }),
        Number("tcp.read_buffer_size", 1, int.MaxValue, "a byte count, 1 or more",
            s => s.TcpReadBufferSize, (s, v) => s with { TcpReadBufferSize = v }),
        Number("websocket.ping_period_ms", 1, int.MaxValue, "a whole number of milliseconds, 1 or more",
            s => s.WebSocketPingPeriodMs, (s, v) => s with { WebSocketPingPeriodMs = v }, Tolerance.ZeroToMinimum),
        Number("websocket.retry_delay_ms", 0, int.MaxValue, "a whole number of milliseconds, 0 or more",
            s => s.WebSocketRetryDelayMs, (s, v) => s with { WebSocketRetryDelayMs = v }),
        Number("websocket.connect_retry_count", -1, int.MaxValue, "a whole number of attempts, or -1 to retry forever",
            s => s.WebSocketConnectRetryCount, (s, v) => s with { WebSocketConnectRetryCount = v }),
        Flag("websocket.reconnect_on_data_error", s => s.WebSocketReconnectOnDataError, (s, v) => s with { WebSocketReconnectOnDataError = v }),
        Text("websocket.subprotocol", $"one of {Subprotocols.V3}, {Subprotocols.V2} or {Subprotocols.V1}",
            s => s.WebSocketSubprotocol, (s, v) => s with { WebSocketSubprotocol = v }, v => Subprotocols.TryParse(v, out _)),
        Number("websocket.max_frame_size", 1, ProtocolLimits.MaxWebSocketFrameSize, "a byte count from 1 to 131076 (the protocol's limit)",
            s => s.WebSocketMaxFrameSize, (s, v) => s with { WebSocketMaxFrameSize = v }, Tolerance.AboveToLimit),
        Number("websocket.write_buffer_size", 1, int.MaxValue, "a byte count, 1 or more",
            s => s.WebSocketWriteBufferSize, (s, v) => s with { WebSocketWriteBufferSize = v }),
        Number("websocket.read_buffer_size", 1, int.MaxValue, "a byte count, 1 or more",
            s => s.WebSocketReadBufferSize, (s, v) => s with { WebSocketReadBufferSize = v }),
        Number("awstunnel.connection_buffer_limit_bytes", ProtocolLimits.MaxPayloadSize, int.MaxValue,
            "a byte count of at least 64512 (one payload)", s => s.ConnectionBufferLimitBytes, (s, v) => s with { ConnectionBufferLimitBytes = v }),
        Number("awstunnel.connection_stall_timeout_ms", 1, int.MaxValue, "a whole number of milliseconds, 1 or more",
            s => s.ConnectionStallTimeoutMs, (s, v) => s with { ConnectionStallTimeoutMs = v }),
        Number("awstunnel.tunnel_buffer_limit_bytes", ProtocolLimits.MaxPayloadSize, int.MaxValue,
            "a byte count of at least 64512 (one payload)", s => s.TunnelBufferLimitBytes, (s, v) => s with { TunnelBufferLimitBytes = v }),
        Number("awstunnel.websocket_socket_buffer_bytes", 0, int.MaxValue, "a byte count (0 lets the operating system size the buffers)",
            s => s.WebSocketSocketBufferBytes, (s, v) => s with { WebSocketSocketBufferBytes = v }),
    };

    private static readonly Dictionary<string, SettingKey> ByName = Table.ToDictionary(k => k.Name, StringComparer.Ordinal);

    /// <summary>
    /// Every scalar key, relative to <c>tunneling.proxy</c>, in export order (the
    /// <see cref="RegionEndpointOverrides"/> map comes after <c>endpoint_format</c> in files).
    /// </summary>
    public static IReadOnlyList<string> All { get; } = Array.AsReadOnly(Table.Select(k => k.Name).ToArray());

    /// <summary>
    /// Keys the reference proxy exports but AwsTunnel has no use for; they are accepted
    /// without a warning and otherwise ignored.
    /// </summary>
    public static IReadOnlyList<string> ReferenceOnly { get; } = Array.AsReadOnly(new[] { "message.data_frame_max_size", "tcp.write_buffer_size" });

    /// <summary>The full dotted name of a relative key, e.g. <c>tunneling.proxy.tcp.read_buffer_size</c>.</summary>
    public static string FullName(string relativeKey) => Root + "." + relativeKey;

    /// <summary>The current value of a scalar key as it is written to files.</summary>
    /// <exception cref="ArgumentException">the key is not one of <see cref="All"/>.</exception>
    public static string Get(ProxySettings settings, string relativeKey) =>
        ByName.TryGetValue(relativeKey, out var key)
            ? key.Get(settings)
            : throw new ArgumentException($"'{relativeKey}' is not a settings key. Known keys: {string.Join(", ", All)}.", nameof(relativeKey));

    internal static bool TryFind(string relativeKey, out SettingKey key) => ByName.TryGetValue(relativeKey, out key!);

    internal static bool IsSection(string relativePrefix) =>
        Table.Any(k => k.Name.StartsWith(relativePrefix + ".", StringComparison.Ordinal));

    private static SettingKey Text(string name, string expected, Func<ProxySettings, string> get, Func<ProxySettings, string, ProxySettings> set,
        Func<string, bool>? valid = null) =>
        new(name, expected, get, (s, raw, origin, _) =>
        {
            string value = raw.Trim();
            if (value.Length == 0 || (valid is not null && !valid(value)))
            {
                throw Invalid(origin, name, raw, expected);
            }

            return set(s, value);
        });

    /// <summary>Out-of-range values the reference proxy runs with and whose meaning is clear: taken, with a warning.</summary>
    private enum Tolerance
    {
        /// <summary>Every out-of-range value is refused.</summary>
        None,

        /// <summary>0 (the reference takes it) means the smallest allowed value.</summary>
        ZeroToMinimum,

        /// <summary>A value above the protocol's limit means the limit.</summary>
        AboveToLimit,
    }

    private static SettingKey Number(string name, int min, int max, string expected, Func<ProxySettings, int> get, Func<ProxySettings, int, ProxySettings> set,
        Tolerance tolerance = Tolerance.None) =>
        new(name, expected, s => get(s).ToString(CultureInfo.InvariantCulture), (s, raw, origin, logger) =>
        {
            if (!long.TryParse(raw.Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long value))
            {
                throw Invalid(origin, name, raw, expected);
            }

            long taken = (tolerance, value) switch
            {
                (Tolerance.ZeroToMinimum, 0) => min,
                (Tolerance.AboveToLimit, _) when value > max => max,
                _ => value,
            };
            if (taken < min || taken > max)
            {
                throw Invalid(origin, name, raw, expected);
            }

            if (taken != value)
            {
                logger?.LogWarning("{Origin}: setting '{Key}' has the value {Value}, outside {Expected}; using {Taken}.",
                    origin, FullName(name), raw.Trim(), expected, taken);
            }

            return set(s, (int)taken);
        });

    private static SettingKey Flag(string name, Func<ProxySettings, bool> get, Func<ProxySettings, bool, ProxySettings> set) =>
        new(name, "true or false", s => get(s) ? "true" : "false", (s, raw, origin, _) => set(s, ParseFlag(raw.Trim()) ?? throw Invalid(origin, name, raw, "true or false")));

    private static bool? ParseFlag(string value) => value.ToLowerInvariant() switch
    {
        "true" or "1" => true,
        "false" or "0" => false,
        _ => null,
    };

    internal static SettingsException Invalid(string origin, string name, string value, string expected) =>
        new($"{origin}: setting '{FullName(name)}' has the value '{value}', but it must be {expected}.", origin, FullName(name));
}

/// <summary>One scalar setting: its relative name, what it accepts, and how it reads and writes <see cref="ProxySettings"/>.</summary>
/// <param name="Name">Relative to <c>tunneling.proxy</c>.</param>
/// <param name="Expected">What a valid value looks like, for error messages.</param>
/// <param name="Get">The value as written to files.</param>
/// <param name="Set">Parses a value (origin names the input in errors; the logger, if any, hears about tolerated values) into a changed copy.</param>
internal sealed record SettingKey(string Name, string Expected, Func<ProxySettings, string> Get, Func<ProxySettings, string, string, ILogger?, ProxySettings> Set);
