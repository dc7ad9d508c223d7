using System.Management.Automation;
using AwsTunnel.Engine.Settings;

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
        // Order (DESIGN.md): -Region, the TunnelArn's region, AWSIOT_TUNNEL_REGION, $StoredAWSRegion, AWS_REGION, AWS_DEFAULT_REGION.
        string? fromArn = TunnelArnParser.TryGetRegion(tunnelArn, out var arnRegion) ? arnRegion : null;
        return TunnelEnvironment.FromProcess()
            .ResolveRegionWithSource(region, fromArn, sessionState.PSVariable.GetValue("StoredAWSRegion") as string)?.Region;
    }
}
