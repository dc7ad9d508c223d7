using System.Management.Automation;

namespace AwsTunnel.PowerShell.Input;

/// <summary>
/// Finds the tunnel's region in the documented order: <c>-Region</c> (or a <c>region</c>
/// property on the pipeline object), the region in <c>TunnelArn</c>, <c>AWSIOT_TUNNEL_REGION</c>,
/// <c>$StoredAWSRegion</c> (the AWS Tools default), <c>AWS_REGION</c>, <c>AWS_DEFAULT_REGION</c>.
/// </summary>
internal static class RegionResolver
{
    public static string? Resolve(string? region, string? tunnelArn, SessionState sessionState)
    {
        if (!string.IsNullOrWhiteSpace(region))
        {
            return region.Trim();
        }

        if (TunnelArnParser.TryGetRegion(tunnelArn, out var fromArn))
        {
            return fromArn;
        }

        return FirstSet(
            Environment.GetEnvironmentVariable("AWSIOT_TUNNEL_REGION"),
            sessionState.PSVariable.GetValue("StoredAWSRegion") as string,
            Environment.GetEnvironmentVariable("AWS_REGION"),
            Environment.GetEnvironmentVariable("AWS_DEFAULT_REGION"));
    }

    private static string? FirstSet(params string?[] values) =>
        values.FirstOrDefault(v => !string.IsNullOrWhiteSpace(v))?.Trim();
}
