namespace AwsTunnel.Engine.Protocol;

/// <summary>Which end of a tunnel a local proxy is (the <c>local-proxy-mode</c> query value).</summary>
public enum TunnelMode
{
    /// <summary>Listens locally and starts streams.</summary>
    Source,
    /// <summary>Connects streams to local targets.</summary>
    Destination,
}

public static class TunnelModeNames
{
    /// <summary>The wire spelling: <c>source</c> or <c>destination</c>.</summary>
    public static string ToWire(this TunnelMode mode) => mode == TunnelMode.Source ? "source" : "destination";

    public static bool TryParseWire(string? value, out TunnelMode mode)
    {
        switch (value)
        {
            case "source": mode = TunnelMode.Source; return true;
            case "destination": mode = TunnelMode.Destination; return true;
            default: mode = default; return false;
        }
    }
}
