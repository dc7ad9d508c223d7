using System.Management.Automation;
using AwsTunnel.Engine.Service;
using AwsTunnel.PowerShell.Commands;
using AwsTunnel.PowerShell.Sessions;

namespace AwsTunnel.PowerShell.LocalService;

/// <summary>Starting and finding the local tunneling services of the current runspace.</summary>
internal static class LocalServices
{
    /// <summary>Starts a service and registers it (the first one becomes the default).</summary>
    public static LocalTunnelServiceInfo Start(PSCmdlet cmdlet, LocalTunnelServiceOptions options)
    {
        var service = new LocalTunnelService(options);
        try
        {
            service.StartAsync().GetAwaiter().GetResult();
        }
        catch (InvalidOperationException ex)
        {
            cmdlet.ThrowTerminatingError(new ErrorRecord(new InvalidOperationException(ex.Message), "LocalServiceStartFailed", ErrorCategory.ResourceUnavailable, options.Port));
        }

        var info = new LocalTunnelServiceInfo(service, options.UseTls, options.MaxProtocol);
        RunspaceScope.Current.AddLocalService(info);
        cmdlet.WriteVerbose($"Local tunneling service listening on {info.Endpoint}.");
        return info;
    }

    /// <summary>The given service, else the default one, else a new default service.</summary>
    public static LocalTunnelServiceInfo GetOrStartDefault(PSCmdlet cmdlet, LocalTunnelServiceInfo? given)
    {
        if (given is not null)
        {
            return given;
        }

        var running = RunspaceScope.Current.LocalServices.FirstOrDefault(s => s.IsRunning);
        if (running is not null)
        {
            return running;
        }

        cmdlet.WriteVerbose("No local tunneling service runs in this session; starting one on loopback.");
        return Start(cmdlet, new LocalTunnelServiceOptions());
    }

    /// <summary>Finds a tunnel by id on the given service or on any service of this session.</summary>
    public static LocalTunnelInfo? FindTunnel(string tunnelId, LocalTunnelServiceInfo? service) =>
        (service is null ? RunspaceScope.Current.LocalServices : new[] { service })
            .Select(s => s.FindTunnel(tunnelId))
            .FirstOrDefault(t => t is not null);
}
