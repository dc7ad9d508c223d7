using System.Diagnostics;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using AwsTunnel.Tests.Support;

namespace AwsTunnel.Tests.Service;

/// <summary>
/// The real AWS CLI (botocore signs, serializes and parses) against the local service.
/// Skipped where no <c>aws</c> is on PATH; .ci/run installs Debian's awscli.
/// </summary>
public partial class AwsCliTests
{
    [SkippableFact]
    public async Task The_AWS_CLI_runs_every_operation_against_the_local_service_with_endpoint_url()
    {
        string aws = FindAws();
        await using var host = await ApiHost.StartAsync();
        string endpoint = host.Service.ApiEndpoint.ToString();

        var opened = await RunJsonAsync(aws, endpoint, "open-tunnel", "--description", "from the CLI",
            "--destination-config", "thingName=pump-7,services=SSH", "--timeout-config", "maxLifetimeTimeoutMinutes=5",
            "--tags", "key=team,value=ops");
        string id = opened["tunnelId"]!.GetValue<string>();
        string arn = opened["tunnelArn"]!.GetValue<string>();
        Assert.StartsWith("arn:aws:iot:eu-central-1:", arn);
        Assert.Equal(host.Service.FindTunnel(id)!.SourceAccessToken, opened["sourceAccessToken"]!.GetValue<string>());

        var tunnel = (await RunJsonAsync(aws, endpoint, "describe-tunnel", "--tunnel-id", id))["tunnel"]!;
        Assert.Equal("OPEN", tunnel["status"]!.GetValue<string>());
        Assert.Equal(5, tunnel["timeoutConfig"]!["maxLifetimeTimeoutMinutes"]!.GetValue<int>());
        Assert.Equal("DISCONNECTED", tunnel["sourceConnectionState"]!["status"]!.GetValue<string>());

        var listed = await RunJsonAsync(aws, endpoint, "list-tunnels", "--thing-name", "pump-7");
        Assert.Equal(id, listed["tunnelSummaries"]![0]!["tunnelId"]!.GetValue<string>());

        var rotated = await RunJsonAsync(aws, endpoint, "rotate-tunnel-access-token", "--tunnel-id", id, "--client-mode", "ALL");
        Assert.Equal(host.Service.FindTunnel(id)!.DestinationAccessToken, rotated["destinationAccessToken"]!.GetValue<string>());

        await RunAsync(aws, endpoint, "tag-resource", "--resource-arn", arn, "--tags", "key=site,value=b7");
        await RunAsync(aws, endpoint, "untag-resource", "--resource-arn", arn, "--tag-keys", "team");
        var tags = await RunJsonAsync(aws, endpoint, "list-tags-for-resource", "--resource-arn", arn);
        Assert.Equal("site", tags["tags"]![0]!["key"]!.GetValue<string>());

        await RunAsync(aws, endpoint, "close-tunnel", "--tunnel-id", id, "--delete");
        var missing = await RunAsync(aws, endpoint, expectSuccess: false, "describe-tunnel", "--tunnel-id", id);
        Assert.Contains("ResourceNotFoundException", missing.Error);
    }

    [SkippableFact]
    public async Task The_AWS_CLI_reports_a_modeled_error_by_its_name()
    {
        string aws = FindAws();
        await using var host = await ApiHost.StartAsync(new AwsTunnel.Engine.Service.LocalTunnelServiceOptions { MaxOpenTunnels = 1 });
        string endpoint = host.Service.ApiEndpoint.ToString();
        await RunJsonAsync(aws, endpoint, "open-tunnel");

        var refused = await RunAsync(aws, endpoint, expectSuccess: false, "open-tunnel");

        Assert.Contains("LimitExceededException", refused.Error);
    }

    [SkippableFact]
    public async Task The_AWS_CLI_finds_the_service_through_AWS_ENDPOINT_URL_IOTSECURETUNNELING()
    {
        string aws = FindAws();
        var version = await RunProcessAsync(aws, new[] { "--version" }, new Dictionary<string, string>());
        Skip.IfNot(SupportsServiceEndpointVariables(version.Output + version.Error),
            $"this AWS CLI ({(version.Output + version.Error).Trim()}) predates AWS_ENDPOINT_URL_<SERVICE> (CLI v1.29 / v2.13)");
        await using var host = await ApiHost.StartAsync();

        var env = Environment(host.Service.ApiEndpoint.ToString());
        var opened = await RunProcessAsync(aws, new[] { "iotsecuretunneling", "open-tunnel", "--output", "json" }, env);

        Assert.True(opened.ExitCode == 0, opened.Error);
        Assert.Single(host.Service.Tunnels);
    }

    private static string FindAws()
    {
        var path = System.Environment.GetEnvironmentVariable("PATH") ?? string.Empty;
        var found = path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, "aws"))
            .FirstOrDefault(File.Exists);
        Skip.If(found is null, "the AWS CLI (aws) is not on PATH; install Debian's awscli to run this test");
        return found!;
    }

    private static bool SupportsServiceEndpointVariables(string version)
    {
        var match = CliVersion().Match(version);
        if (!match.Success)
        {
            return false;
        }

        var v = new Version(match.Groups[1].Value);
        return v.Major == 1 ? v >= new Version(1, 29) : v >= new Version(2, 13);
    }

    [GeneratedRegex(@"aws-cli/(\d+\.\d+)")]
    private static partial Regex CliVersion();

    /// <summary>Example credentials only: nothing from the user's profile, no retries, no pager, no metadata service.</summary>
    private static Dictionary<string, string> Environment(string? serviceEndpoint = null)
    {
        var env = new Dictionary<string, string>
        {
            ["AWS_ACCESS_KEY_ID"] = SigV4Signer.ExampleAccessKeyId,
            ["AWS_SECRET_ACCESS_KEY"] = SigV4Signer.ExampleSecretKey,
            ["AWS_DEFAULT_REGION"] = "eu-central-1",
            ["AWS_CONFIG_FILE"] = "/nonexistent/aws-config",
            ["AWS_SHARED_CREDENTIALS_FILE"] = "/nonexistent/aws-credentials",
            ["AWS_EC2_METADATA_DISABLED"] = "true",
            ["AWS_MAX_ATTEMPTS"] = "1",
            ["AWS_PAGER"] = string.Empty,
        };
        if (serviceEndpoint is not null)
        {
            env["AWS_ENDPOINT_URL_IOTSECURETUNNELING"] = serviceEndpoint;
        }

        return env;
    }

    private static async Task<JsonObject> RunJsonAsync(string aws, string endpoint, params string[] arguments)
    {
        var result = await RunAsync(aws, endpoint, arguments);
        return (JsonObject)JsonNode.Parse(result.Output)!;
    }

    private static Task<ProcessResult> RunAsync(string aws, string endpoint, params string[] arguments) =>
        RunAsync(aws, endpoint, expectSuccess: true, arguments);

    private static async Task<ProcessResult> RunAsync(string aws, string endpoint, bool expectSuccess, params string[] arguments)
    {
        var all = new[] { "iotsecuretunneling" }.Concat(arguments).Concat(new[] { "--endpoint-url", endpoint, "--output", "json" }).ToArray();
        var result = await RunProcessAsync(aws, all, Environment());
        Assert.True((result.ExitCode == 0) == expectSuccess,
            $"aws {string.Join(' ', arguments)} exited {result.ExitCode}: {result.Error}{result.Output}");
        return result;
    }

    private static async Task<ProcessResult> RunProcessAsync(string file, string[] arguments, Dictionary<string, string> env)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        // The user's own AWS settings must not leak in (a profile, a session token, another endpoint).
        foreach (var name in start.Environment.Keys.Where(k => k.StartsWith("AWS_", StringComparison.Ordinal)).ToList())
        {
            start.Environment.Remove(name);
        }

        foreach (var (name, value) in env)
        {
            start.Environment[name] = value;
        }

        using var process = Process.Start(start)!;
        process.StandardInput.Close();
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        try
        {
            // A hang guard only: Python starts slowly on a loaded machine.
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(2));
        }
        catch (TimeoutException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        return new ProcessResult(process.ExitCode, await output, await error);
    }

    private sealed record ProcessResult(int ExitCode, string Output, string Error);
}
