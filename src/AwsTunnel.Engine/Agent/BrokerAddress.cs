namespace AwsTunnel.Engine.Agent;

/// <summary>
/// Where the agent's MQTT broker is. Written as an AWS IoT Core endpoint
/// (<c>xxxx-ats.iot.us-east-1.amazonaws.com</c>: mqtts on 8883), <c>host:port</c> (mqtts), or a
/// URI: <c>mqtts://host[:8883]</c> (TLS) or <c>mqtt://host[:1883]</c> (plain TCP).
/// </summary>
public sealed record BrokerAddress(string Host, int Port, bool UseTls)
{
    /// <summary>The MQTT over TLS port (AWS IoT Core's).</summary>
    public const int TlsPort = 8883;

    /// <summary>The plain MQTT port.</summary>
    public const int PlainPort = 1883;

    /// <summary>As a URI: <c>mqtts://host:port</c> or <c>mqtt://host:port</c>.</summary>
    public override string ToString() =>
        $"{(UseTls ? "mqtts" : "mqtt")}://{(Host.Contains(':') ? $"[{Host}]" : Host)}:{Port}";

    /// <exception cref="ArgumentException">the text is not a broker address; the message says what is.</exception>
    public static BrokerAddress Parse(string text)
    {
        string trimmed = text?.Trim() ?? string.Empty;
        if (trimmed.Length == 0)
        {
            throw new ArgumentException("No MQTT broker was given. Give the AWS IoT Core endpoint (xxxx-ats.iot.REGION.amazonaws.com) or a broker URI such as mqtts://host:8883 or mqtt://127.0.0.1:1883.");
        }

        string uriText = trimmed.Contains("://", StringComparison.Ordinal) ? trimmed : "mqtts://" + trimmed;
        if (!Uri.TryCreate(uriText, UriKind.Absolute, out var uri) || string.IsNullOrEmpty(uri.Host) ||
            (uri.AbsolutePath.Length > 1) || uri.Query.Length > 0)
        {
            throw new ArgumentException($"MQTT broker '{text}' is not valid. Give host, host:port, mqtts://host:port or mqtt://host:port.");
        }

        bool tls = uri.Scheme switch
        {
            "mqtts" or "ssl" or "tls" => true,
            "mqtt" or "tcp" => false,
            _ => throw new ArgumentException($"MQTT broker '{text}' has the scheme '{uri.Scheme}'. Use mqtts:// (TLS, as AWS IoT Core needs) or mqtt:// (plain, for a local test broker)."),
        };

        int port = uri.IsDefaultPort || uri.Port <= 0 ? (tls ? TlsPort : PlainPort) : uri.Port;
        return new BrokerAddress(uri.IdnHost.Trim('[', ']'), port, tls);
    }
}
