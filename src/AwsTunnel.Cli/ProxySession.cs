using AwsTunnel.Engine.Protocol;
using AwsTunnel.Engine.Tunnel;

namespace AwsTunnel.Cli;

/// <summary>
/// Runs one proxy session to its end: start, print what is listening or forwarded, wait
/// for the tunnel to end or a signal, and turn the outcome into an exit code.
/// </summary>
internal static class ProxySession
{
    public static async Task<int> RunAsync(TunnelOptions options, CliContext context, CancellationToken cancellationToken)
    {
        TunnelClient client;
        try
        {
            client = new TunnelClient(options);
        }
        catch (ArgumentException ex)
        {
            throw new UsageException(ex.Message, ex);
        }

        await using (client)
        {
            try
            {
                await client.StartAsync(cancellationToken);
            }
            catch (Exception ex) when (ex is OperationCanceledException or TunnelStartException && cancellationToken.IsCancellationRequested)
            {
                // Ctrl+C or SIGTERM while connecting is a stop, whatever the start was doing (README: exit 0).
                return ExitCodes.Success;
            }
            catch (TunnelStartException ex)
            {
                context.WriteError(ex.Message);
                return ExitCodes.FromStartFailure(ex.Failure);
            }

            ReportReady(client, options, context);
            var end = await WaitForEndAsync(client, cancellationToken);
            if (!end.IsSuccess)
            {
                context.WriteError(end.Message);
            }

            return ExitCodes.FromEnd(end.Reason);
        }
    }

    /// <summary>Waits for the tunnel to end; a signal stops it cleanly first.</summary>
    private static async Task<TunnelEnd> WaitForEndAsync(TunnelClient client, CancellationToken cancellationToken)
    {
        var stopRequested = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using (cancellationToken.Register(() => stopRequested.TrySetResult()))
        {
            await Task.WhenAny(client.Completion, stopRequested.Task);
        }

        if (!client.Completion.IsCompleted)
        {
            await client.StopAsync();
        }

        return await client.Completion;
    }

    /// <summary>One stdout line per service, for scripts to read the bound ports or targets.</summary>
    private static void ReportReady(TunnelClient client, TunnelOptions options, CliContext context)
    {
        if (client.Mode == TunnelMode.Source)
        {
            foreach (var (serviceId, bound) in client.ListenEndPoints.OrderBy(p => p.Key, StringComparer.Ordinal))
            {
                string endPoint = ServiceMapping.FormatHostPort(bound.Address.ToString(), bound.Port);
                context.Out.WriteLine(serviceId.Length == 0 ? $"Listening on {endPoint}" : $"Listening for {serviceId} on {endPoint}");
            }
        }
        else
        {
            foreach (var (serviceId, mapping) in client.Services.OrderBy(s => s.Key, StringComparer.Ordinal))
            {
                string target = ServiceMapping.FormatHostPort(mapping.Host ?? "localhost", mapping.Port);
                context.Out.WriteLine(serviceId.Length == 0 ? $"Forwarding to {target}" : $"Forwarding {serviceId} to {target}");
            }
        }

        context.Out.Flush();
    }
}
