using System.Globalization;
using System.Text.RegularExpressions;

namespace AwsTunnel.Bench;

/// <summary>
/// One tunnel deployed as a user would: `awstunnel service --tunnel SVC` in its own process, a
/// destination `awstunnel -d SVC=127.0.0.1:PORT` and a source `awstunnel -s SVC=0`, each its own
/// process, tokens passed in AWSIOT_TUNNEL_ACCESS_TOKEN, logging at errors only (-v 2).
/// </summary>
internal sealed partial class Deployment
{
    public const string ServiceId = "SVC";
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);

    private Deployment(string name, Child service, Child destination, Child source, string endpoint, int sourcePort, bool usedSettings)
    {
        Name = name;
        Service = service;
        Destination = destination;
        Source = source;
        Endpoint = endpoint;
        SourcePort = sourcePort;
        UsedSettings = usedSettings;
    }

    public string Name { get; }
    public Child Service { get; }
    public Child Destination { get; }
    public Child Source { get; }
    public string Endpoint { get; }
    public int SourcePort { get; }

    /// <summary>True when the proxies accepted --settings-json.</summary>
    public bool UsedSettings { get; }

    /// <summary>The two proxies and the service, for CPU and memory readings.</summary>
    public IReadOnlyList<Child> Processes => new[] { Source, Destination, Service };

    /// <summary>Tokens of one tunnel, as `awstunnel service` printed them.</summary>
    public sealed record TunnelTokens(string Source, string Destination);

    /// <summary>Starts `awstunnel service` with <paramref name="tunnels"/> tunnels of service SVC and reads its endpoint and tokens.</summary>
    public static async Task<(Child Service, string Endpoint, string? CaDir, List<TunnelTokens> Tunnels)> StartServiceAsync(
        BenchContext ctx, string name, bool tls, int tunnels)
    {
        var args = new List<string> { "service", "-v", "2" };
        string? caDir = null;
        if (tls)
        {
            caDir = Path.Combine(ctx.Options.WorkDir, $"ca-{name}-{Guid.NewGuid():N}");
            args.AddRange(new[] { "--tls", "--cert-out", Path.Combine(caDir, "cert.pem") });
        }

        for (int i = 0; i < tunnels; i++)
        {
            args.AddRange(new[] { "--tunnel", ServiceId });
        }

        // The service holds 100 open tunnels by default, as AWS's quota; B4's fleet needs more.
        args.AddRange(new[] { "--max-open-tunnels", Math.Max(tunnels, 100).ToString(CultureInfo.InvariantCulture) });

        var service = Child.StartAwsTunnel(ctx, $"{name} service", args);
        var endpoint = (await service.WaitForLineAsync(ListeningLine(), StartTimeout)).Groups[1].Value;
        if (tls)
        {
            await service.WaitForLineAsync(CertificateLine(), StartTimeout);
        }

        var tokens = new List<TunnelTokens>(tunnels);
        for (int i = 0; i < tunnels; i++)
        {
            string source = (await service.WaitForLineAsync(SourceTokenLine(), StartTimeout)).Groups[1].Value;
            string destination = (await service.WaitForLineAsync(DestinationTokenLine(), StartTimeout)).Groups[1].Value;
            tokens.Add(new TunnelTokens(source, destination));
        }

        await service.WaitForLineAsync(RunningLine(), StartTimeout);
        return (service, endpoint, caDir, tokens);
    }

    /// <summary>
    /// Deploys service, destination (forwarding SVC to <paramref name="targetPort"/>) and source.
    /// With <paramref name="settingsJson"/>, the proxies get --settings-json FILE; if the CLI refuses
    /// the flag (usage error), they are started again without it.
    /// </summary>
    public static async Task<Deployment> StartAsync(BenchContext ctx, string name, bool tls, int targetPort, string? settingsJson = null)
    {
        var (service, endpoint, caDir, tunnels) = await StartServiceAsync(ctx, name, tls, 1);
        var tokens = tunnels[0];
        var common = new List<string> { "-e", endpoint, "-v", "2" };
        if (caDir is not null)
        {
            common.AddRange(new[] { "-c", caDir });
        }

        bool usedSettings = false;
        Child destination;
        var destinationArgs = common.Concat(new[] { "-d", $"{ServiceId}=127.0.0.1:{targetPort.ToString(CultureInfo.InvariantCulture)}" }).ToList();
        if (settingsJson is not null)
        {
            destination = Child.StartAwsTunnel(ctx, $"{name} destination", destinationArgs.Concat(new[] { "--settings-json", settingsJson }), tokens.Destination);
            try
            {
                await destination.WaitForLineAsync(ForwardingLine(), StartTimeout);
                usedSettings = true;
            }
            catch (BenchException ex)
            {
                Log.Line($"{name}: the destination did not start with --settings-json ({ex.Message}); starting without it.");
                destination.Kill();
                destination = Child.StartAwsTunnel(ctx, $"{name} destination", destinationArgs, tokens.Destination);
                await destination.WaitForLineAsync(ForwardingLine(), StartTimeout);
            }
        }
        else
        {
            destination = Child.StartAwsTunnel(ctx, $"{name} destination", destinationArgs, tokens.Destination);
            await destination.WaitForLineAsync(ForwardingLine(), StartTimeout);
        }

        var sourceArgs = common.Concat(new[] { "-s", $"{ServiceId}=0" });
        if (usedSettings)
        {
            sourceArgs = sourceArgs.Concat(new[] { "--settings-json", settingsJson! });
        }

        var source = Child.StartAwsTunnel(ctx, $"{name} source", sourceArgs, tokens.Source);
        int port = int.Parse((await source.WaitForLineAsync(SourceListeningLine(), StartTimeout)).Groups[1].Value, CultureInfo.InvariantCulture);
        Log.Line($"{name}: service {endpoint} (pid {service.Pid}), destination pid {destination.Pid}, source pid {source.Pid} listening on 127.0.0.1:{port}");
        return new Deployment(name, service, destination, source, endpoint, port, usedSettings);
    }

    public void EnsureRunning()
    {
        foreach (var p in Processes)
        {
            p.EnsureRunning();
        }
    }

    public void Stop()
    {
        foreach (var p in Processes)
        {
            p.Kill();
        }
    }

    [GeneratedRegex(@"^Local tunneling service listening on (wss?://\S+)")]
    private static partial Regex ListeningLine();

    [GeneratedRegex(@"^Certificate written to ")]
    private static partial Regex CertificateLine();

    [GeneratedRegex(@"^\s+source access token:\s+(\S+)")]
    private static partial Regex SourceTokenLine();

    [GeneratedRegex(@"^\s+destination access token:\s+(\S+)")]
    private static partial Regex DestinationTokenLine();

    [GeneratedRegex(@"^Running;")]
    private static partial Regex RunningLine();

    /// <summary>An awstunnel destination is connected and ready.</summary>
    [GeneratedRegex(@"^Forwarding SVC to ")]
    internal static partial Regex ForwardingLine();

    /// <summary>An awstunnel source is connected and listening; group 1 is the port.</summary>
    [GeneratedRegex(@"^Listening for SVC on 127\.0\.0\.1:(\d+)")]
    internal static partial Regex SourceListeningLine();
}
