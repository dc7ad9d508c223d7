namespace AwsTunnel.PowerShell.Input;

/// <summary>Reads a tunnel ARN: <c>arn:PARTITION:iot:REGION:ACCOUNT:tunnel/ID</c>.</summary>
internal static class TunnelArnParser
{
    public static bool TryGetRegion(string? arn, out string region)
    {
        region = string.Empty;
        if (string.IsNullOrWhiteSpace(arn))
        {
            return false;
        }

        var parts = arn.Split(':');
        if (parts.Length < 6 || parts[0] != "arn" || parts[2] != "iot" || !parts[5].StartsWith("tunnel/", StringComparison.Ordinal))
        {
            return false;
        }

        region = parts[3];
        return region.Length > 0;
    }

    /// <summary>The tunnel id at the end of the ARN.</summary>
    public static string? GetTunnelId(string? arn)
    {
        int slash = arn?.LastIndexOf("tunnel/", StringComparison.Ordinal) ?? -1;
        return slash < 0 ? null : arn![(slash + "tunnel/".Length)..];
    }
}
