using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Sockets;
using AwsTunnel.Engine.Protocol;
using AwsTunnel.Engine.Tunnel;
using AwsTunnel.Tests.Support;

namespace AwsTunnel.Tests.Engine;

/// <summary>
/// The local service near its file descriptor limit: it stops accepting while the last
/// descriptors are the runtime's reserve (accepting to the limit once killed the process:
/// "Out of memory." when the thread pool needed a thread), logs once per wait, accepts again
/// when descriptors are freed, and the tunnels it already carries keep working. Runs
/// `awstunnel service` in a child process with a lowered descriptor limit.
/// </summary>
public class ServiceAcceptBackoffTests
{
    [Fact]
    public async Task Near_its_descriptor_limit_the_service_stops_accepting_logs_once_survives_and_existing_tunnels_keep_working()
    {
        string cli = Path.Combine(AppContext.BaseDirectory, "awstunnel.dll");
        var info = new ProcessStartInfo("bash")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add($"ulimit -n 256 && exec dotnet \"{cli}\" service --tunnel SSH1 -v 4");
        var lines = new ConcurrentQueue<string>();
        using var service = Process.Start(info)!;
        service.OutputDataReceived += (_, e) => { if (e.Data is not null) lines.Enqueue(e.Data); };
        service.ErrorDataReceived += (_, e) => { if (e.Data is not null) lines.Enqueue(e.Data); };
        service.BeginOutputReadLine();
        service.BeginErrorReadLine();
        var idle = new List<Socket>();
        try
        {
            await Eventually.TrueAsync(() => lines.Any(l => l.Contains("destination access token:")), "the service to print its tunnel", 30000);
            string endpoint = lines.First(l => l.StartsWith("Local tunneling service listening on ", StringComparison.Ordinal))["Local tunneling service listening on ".Length..].Trim();
            string sourceToken = lines.First(l => l.Contains("source access token:")).Split(':', 2)[1].Trim();
            string destinationToken = lines.First(l => l.Contains("destination access token:")).Split(':', 2)[1].Trim();
            int port = new Uri(endpoint).Port;

            await using var echo = new EchoServer();
            await using var destination = new TunnelClient(Options(TunnelMode.Destination, endpoint, destinationToken, $"SSH1=127.0.0.1:{echo.Port}"));
            await destination.StartAsync();
            await using var source = new TunnelClient(Options(TunnelMode.Source, endpoint, sourceToken, "SSH1=0"));
            await source.StartAsync();
            using var client = await TcpProbe.ConnectAsync(source.Ports["SSH1"]);
            Assert.Equal("before", await TcpProbe.EchoAsync(client, "before"));

            // More idle connections than the service has descriptors left.
            for (int i = 0; i < 300; i++)
            {
                var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
                idle.Add(socket);
                await socket.ConnectAsync("127.0.0.1", port);
            }

            await Eventually.TrueAsync(() => lines.Any(l => l.Contains("Stopped accepting on the local tunneling service for now")),
                "the service to stop accepting near its descriptor limit", 30000);
            Assert.Equal("during", await TcpProbe.EchoAsync(client, "during"));

            idle.ForEach(s => s.Dispose());
            idle.Clear();
            await Eventually.TrueAsync(() => lines.Any(l => l.Contains("Accepting on the local tunneling service again")),
                "the service to accept again", 30000);
            Assert.Equal("after", await TcpProbe.EchoAsync(client, "after"));

            // A new connection is served again: the service accepted it and answers its request.
            using (var fresh = await TcpProbe.ConnectAsync(port))
            {
                await fresh.SendAsync("GET /tunnel HTTP/1.1\r\nHost: x\r\n\r\n"u8.ToArray(), SocketFlags.None);
                var answer = new byte[12];
                int read = await fresh.ReceiveAsync(answer, SocketFlags.None).WaitAsync(TimeSpan.FromSeconds(30));
                Assert.StartsWith("HTTP/1.1 4", System.Text.Encoding.ASCII.GetString(answer, 0, read));
            }

            // One warning per wait (the line that ends it counts the checks), not one per attempt.
            int waits = lines.Count(l => l.Contains("Stopped accepting on the local tunneling service"));
            int ends = lines.Count(l => l.Contains("Accepting on the local tunneling service again"));
            Assert.True(waits <= ends + 1, $"{waits} warnings for {ends} ends of a wait");
            Assert.DoesNotContain(lines, l => l.Contains("Out of memory", StringComparison.OrdinalIgnoreCase));
            Assert.True(service.HasExited is false, "the service is still running");
        }
        finally
        {
            idle.ForEach(s => s.Dispose());
            service.Kill(entireProcessTree: true);
            await service.WaitForExitAsync();
        }
    }

    private static TunnelOptions Options(TunnelMode mode, string endpoint, string token, string mappings) => new()
    {
        Mode = mode,
        ServiceUri = new Uri(endpoint),
        AccessToken = token,
        Services = ServiceMapping.ParseList(mappings, "test mapping"),
        Settings = TunnelHarness.FastSettings,
        StartTimeout = TimeSpan.FromSeconds(15),
    };
}
