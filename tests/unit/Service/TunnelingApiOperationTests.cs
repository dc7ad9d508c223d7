using System.Net;
using System.Text.Json.Nodes;
using AwsTunnel.Engine.Service;
using AwsTunnel.Tests.Support;

namespace AwsTunnel.Tests.Service;

/// <summary>Each Secure Tunneling operation, called over HTTP as the SDKs call it, with its modeled errors.</summary>
public class TunnelingApiOperationTests
{
    private static readonly object SshTunnel = new
    {
        description = "maintenance",
        tags = new[] { new { key = "team", value = "ops" } },
        destinationConfig = new { thingName = "pump-7", services = new[] { "SSH", "HTTP" } },
        timeoutConfig = new { maxLifetimeTimeoutMinutes = 30 },
    };

    [Fact]
    public async Task OpenTunnel_returns_an_arn_in_the_signed_region_and_two_tokens_that_the_service_accepts()
    {
        await using var host = await ApiHost.StartAsync();

        var opened = await host.Client.OkAsync("OpenTunnel", SshTunnel);

        string id = opened["tunnelId"]!.GetValue<string>();
        Assert.Equal($"arn:aws:iot:us-west-2:000000000000:tunnel/{id}", opened["tunnelArn"]!.GetValue<string>());
        var tunnel = host.Service.FindTunnel(id)!;
        Assert.Equal(tunnel.SourceAccessToken, opened["sourceAccessToken"]!.GetValue<string>());
        Assert.Equal(tunnel.DestinationAccessToken, opened["destinationAccessToken"]!.GetValue<string>());
        Assert.Equal(new[] { "SSH", "HTTP" }, tunnel.Services);
        Assert.Equal(TimeSpan.FromMinutes(30), tunnel.Lifetime);
    }

    [Fact]
    public async Task OpenTunnel_with_an_empty_body_opens_a_single_stream_tunnel_for_720_minutes()
    {
        await using var host = await ApiHost.StartAsync();

        var opened = await host.Client.OkAsync("OpenTunnel");
        var described = await host.Client.OkAsync("DescribeTunnel", new { tunnelId = opened["tunnelId"]!.GetValue<string>() });

        var tunnel = described["tunnel"]!;
        Assert.Equal(720, tunnel["timeoutConfig"]!["maxLifetimeTimeoutMinutes"]!.GetValue<int>());
        Assert.Null(tunnel["destinationConfig"]);
        Assert.Empty(host.Service.FindTunnel(opened["tunnelId"]!.GetValue<string>())!.Services);
    }

    [Fact]
    public async Task An_unsigned_OpenTunnel_is_accepted_and_gets_the_services_default_region()
    {
        await using var host = await ApiHost.StartAsync();
        using var unsigned = new TunnelingApiClient(host.Service.ApiEndpoint, accessKeyId: null);

        var opened = await unsigned.OkAsync("OpenTunnel", new { });

        Assert.StartsWith("arn:aws:iot:local:000000000000:tunnel/", opened["tunnelArn"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("""{"timeoutConfig":{"maxLifetimeTimeoutMinutes":0}}""", "timeoutConfig.maxLifetimeTimeoutMinutes")]
    [InlineData("""{"timeoutConfig":{"maxLifetimeTimeoutMinutes":721}}""", "timeoutConfig.maxLifetimeTimeoutMinutes")]
    [InlineData("""{"destinationConfig":{"thingName":"pump"}}""", "destinationConfig.services")]
    [InlineData("""{"destinationConfig":{"services":[]}}""", "destinationConfig.services")]
    [InlineData("""{"destinationConfig":{"services":["SSH","SSH"]}}""", "more than once")]
    [InlineData("""{"destinationConfig":{"services":["no spaces"]}}""", "destinationConfig.services.1.member")]
    [InlineData("""{"destinationConfig":{"thingName":"bad/thing","services":["SSH"]}}""", "destinationConfig.thingName")]
    [InlineData("""{"description":""}""", "description")]
    [InlineData("""{"tags":[{"key":"a"}]}""", "tags.1.member.value")]
    [InlineData("""{"tags":[{"key":"a","value":"1"},{"key":"a","value":"2"}]}""", "Tag key 'a' must be given once")]
    public async Task OpenTunnel_refuses_missing_or_out_of_range_fields_with_a_ValidationException_naming_the_member(string body, string named)
    {
        await using var host = await ApiHost.StartAsync();

        var result = await host.Client.CallAsync("OpenTunnel", body);

        Assert.Contains(named, result.AssertError(HttpStatusCode.BadRequest, "ValidationException"));
        Assert.Empty(host.Service.Tunnels);
    }

    [Fact]
    public async Task OpenTunnel_past_the_open_tunnel_limit_is_a_LimitExceededException()
    {
        await using var host = await ApiHost.StartAsync(new LocalTunnelServiceOptions { MaxOpenTunnels = 1 });
        await host.Client.OkAsync("OpenTunnel");

        var result = await host.Client.CallAsync("OpenTunnel");

        Assert.Contains("limit", result.AssertError(HttpStatusCode.BadRequest, "LimitExceededException"));
    }

    [Fact]
    public async Task DescribeTunnel_shows_the_tunnel_as_opened()
    {
        await using var host = await ApiHost.StartAsync();
        var before = DateTimeOffset.UtcNow.AddSeconds(-1);
        string id = (await host.Client.OkAsync("OpenTunnel", SshTunnel))["tunnelId"]!.GetValue<string>();

        var tunnel = (await host.Client.OkAsync("DescribeTunnel", new { tunnelId = id }))["tunnel"]!;

        Assert.Equal(id, tunnel["tunnelId"]!.GetValue<string>());
        Assert.Equal("OPEN", tunnel["status"]!.GetValue<string>());
        Assert.Equal("maintenance", tunnel["description"]!.GetValue<string>());
        Assert.Equal("pump-7", tunnel["destinationConfig"]!["thingName"]!.GetValue<string>());
        Assert.Equal(new[] { "SSH", "HTTP" }, tunnel["destinationConfig"]!["services"]!.AsArray().Select(s => s!.GetValue<string>()));
        Assert.Equal(30, tunnel["timeoutConfig"]!["maxLifetimeTimeoutMinutes"]!.GetValue<int>());
        Assert.Equal("team", tunnel["tags"]![0]!["key"]!.GetValue<string>());
        Assert.Equal("DISCONNECTED", tunnel["sourceConnectionState"]!["status"]!.GetValue<string>());
        Assert.Equal("DISCONNECTED", tunnel["destinationConnectionState"]!["status"]!.GetValue<string>());
        var createdAt = DateTimeOffset.FromUnixTimeMilliseconds((long)(tunnel["createdAt"]!.GetValue<decimal>() * 1000));
        Assert.InRange(createdAt, before, DateTimeOffset.UtcNow.AddSeconds(1));
        Assert.NotNull(tunnel["lastUpdatedAt"]);
        Assert.NotNull(tunnel["sourceConnectionState"]!["lastUpdatedAt"]);
    }

    [Fact]
    public async Task DescribeTunnel_of_an_unknown_id_is_a_ResourceNotFoundException_and_without_an_id_a_ValidationException()
    {
        await using var host = await ApiHost.StartAsync();

        var unknown = await host.Client.CallAsync("DescribeTunnel", new { tunnelId = "00000000-0000-0000-0000-000000000000" });
        var missing = await host.Client.CallAsync("DescribeTunnel", new { });

        Assert.Contains("00000000-0000-0000-0000-000000000000", unknown.AssertError(HttpStatusCode.BadRequest, "ResourceNotFoundException"));
        Assert.Contains("'tunnelId'", missing.AssertError(HttpStatusCode.BadRequest, "ValidationException"));
    }

    [Fact]
    public async Task CloseTunnel_leaves_the_tunnel_described_as_CLOSED_and_with_delete_forgets_it()
    {
        await using var host = await ApiHost.StartAsync();
        string kept = (await host.Client.OkAsync("OpenTunnel"))["tunnelId"]!.GetValue<string>();
        string deleted = (await host.Client.OkAsync("OpenTunnel"))["tunnelId"]!.GetValue<string>();

        Assert.Empty(await host.Client.OkAsync("CloseTunnel", new { tunnelId = kept }));
        await host.Client.OkAsync("CloseTunnel", new { tunnelId = deleted, delete = true });

        Assert.Equal("CLOSED", (await host.Client.OkAsync("DescribeTunnel", new { tunnelId = kept }))["tunnel"]!["status"]!.GetValue<string>());
        (await host.Client.CallAsync("DescribeTunnel", new { tunnelId = deleted })).AssertError(HttpStatusCode.BadRequest, "ResourceNotFoundException");
        (await host.Client.CallAsync("CloseTunnel", new { tunnelId = deleted })).AssertError(HttpStatusCode.BadRequest, "ResourceNotFoundException");
        (await host.Client.CallAsync("CloseTunnel", new { tunnelId = "has spaces" })).AssertError(HttpStatusCode.BadRequest, "ValidationException");
    }

    [Fact]
    public async Task ListTunnels_lists_newest_first_filters_by_thing_and_pages_with_nextToken()
    {
        await using var host = await ApiHost.StartAsync();
        var ids = new List<string>();
        for (int i = 0; i < 5; i++)
        {
            var input = new { destinationConfig = new { thingName = i % 2 == 0 ? "even" : "odd", services = new[] { "SSH" } } };
            ids.Add((await host.Client.OkAsync("OpenTunnel", input))["tunnelId"]!.GetValue<string>());
        }

        var seen = new List<string>();
        string? next = null;
        do
        {
            var page = await host.Client.OkAsync("ListTunnels", next is null ? new { maxResults = 2 } : new { maxResults = 2, nextToken = next });
            var summaries = page["tunnelSummaries"]!.AsArray();
            Assert.InRange(summaries.Count, 1, 2);
            seen.AddRange(summaries.Select(s => s!["tunnelId"]!.GetValue<string>()));
            Assert.All(summaries, s => Assert.Equal("OPEN", s!["status"]!.GetValue<string>()));
            next = page["nextToken"]?.GetValue<string>();
        }
        while (next is not null);

        Assert.Equal(Enumerable.Reverse(ids), seen);
        var even = (await host.Client.OkAsync("ListTunnels", new { thingName = "even" }))["tunnelSummaries"]!.AsArray();
        Assert.Equal(new[] { ids[4], ids[2], ids[0] }, even.Select(s => s!["tunnelId"]!.GetValue<string>()));
        Assert.Null((await host.Client.OkAsync("ListTunnels"))["nextToken"]);
    }

    [Theory]
    [InlineData("""{"maxResults":0}""", "maxResults")]
    [InlineData("""{"maxResults":101}""", "maxResults")]
    [InlineData("""{"nextToken":"before-x"}""", "nextToken")]
    [InlineData("""{"nextToken":"not/a/token"}""", "nextToken")]
    public async Task ListTunnels_refuses_bad_paging_with_a_ValidationException(string body, string named)
    {
        await using var host = await ApiHost.StartAsync();

        var result = await host.Client.CallAsync("ListTunnels", body);

        Assert.Contains(named, result.AssertError(HttpStatusCode.BadRequest, "ValidationException"));
    }

    [Fact]
    public async Task RotateTunnelAccessToken_returns_new_tokens_for_the_mode_only_and_refuses_the_old_ones()
    {
        await using var host = await ApiHost.StartAsync();
        var opened = await host.Client.OkAsync("OpenTunnel", SshTunnel);
        string id = opened["tunnelId"]!.GetValue<string>();
        var tunnel = host.Service.FindTunnel(id)!;

        var rotated = await host.Client.OkAsync("RotateTunnelAccessToken", new { tunnelId = id, clientMode = "SOURCE" });

        Assert.Equal(opened["tunnelArn"]!.GetValue<string>(), rotated["tunnelArn"]!.GetValue<string>());
        Assert.Null(rotated["destinationAccessToken"]);
        string newSource = rotated["sourceAccessToken"]!.GetValue<string>();
        Assert.NotEqual(opened["sourceAccessToken"]!.GetValue<string>(), newSource);
        Assert.Equal(newSource, tunnel.SourceAccessToken);
        Assert.Equal(opened["destinationAccessToken"]!.GetValue<string>(), tunnel.DestinationAccessToken);
        Assert.True(tunnel.WasRotatedAway(opened["sourceAccessToken"]!.GetValue<string>()));

        var all = await host.Client.OkAsync("RotateTunnelAccessToken",
            new { tunnelId = id, clientMode = "ALL", destinationConfig = new { thingName = "pump-8", services = new[] { "SSH", "HTTP" } } });
        Assert.Equal(tunnel.DestinationAccessToken, all["destinationAccessToken"]!.GetValue<string>());
        Assert.Equal("pump-8", tunnel.ThingName);
    }

    [Theory]
    [InlineData("""{"tunnelId":"ID"}""", "ValidationException", "clientMode")]
    [InlineData("""{"tunnelId":"ID","clientMode":"BOTH"}""", "ValidationException", "SOURCE, DESTINATION, ALL")]
    [InlineData("""{"tunnelId":"ID","clientMode":"ALL","destinationConfig":{"services":["RDP"]}}""", "ValidationException", "cannot change")]
    [InlineData("""{"tunnelId":"unknown","clientMode":"ALL"}""", "ResourceNotFoundException", "unknown")]
    public async Task RotateTunnelAccessToken_refuses_bad_requests(string body, string errorType, string named)
    {
        await using var host = await ApiHost.StartAsync();
        string id = (await host.Client.OkAsync("OpenTunnel", SshTunnel))["tunnelId"]!.GetValue<string>();

        var result = await host.Client.CallAsync("RotateTunnelAccessToken", body.Replace("\"ID\"", $"\"{id}\""));

        Assert.Contains(named, result.AssertError(HttpStatusCode.BadRequest, errorType));
    }

    [Fact]
    public async Task RotateTunnelAccessToken_on_a_closed_tunnel_is_a_ResourceNotFoundException()
    {
        await using var host = await ApiHost.StartAsync();
        string id = (await host.Client.OkAsync("OpenTunnel"))["tunnelId"]!.GetValue<string>();
        await host.Client.OkAsync("CloseTunnel", new { tunnelId = id });

        var result = await host.Client.CallAsync("RotateTunnelAccessToken", new { tunnelId = id, clientMode = "ALL" });

        Assert.Contains("closed", result.AssertError(HttpStatusCode.BadRequest, "ResourceNotFoundException"));
    }

    [Fact]
    public async Task TagResource_adds_and_replaces_tags_UntagResource_removes_them_and_ListTagsForResource_shows_them()
    {
        await using var host = await ApiHost.StartAsync();
        string arn = (await host.Client.OkAsync("OpenTunnel", SshTunnel))["tunnelArn"]!.GetValue<string>();

        Assert.Empty(await host.Client.OkAsync("TagResource", new { resourceArn = arn, tags = new[] { new { key = "team", value = "dev" }, new { key = "site", value = "b7" } } }));
        Assert.Equal(new[] { "team=dev", "site=b7" }, await TagsAsync(host, arn));

        Assert.Empty(await host.Client.OkAsync("UntagResource", new { resourceArn = arn, tagKeys = new[] { "team", "absent" } }));
        Assert.Equal(new[] { "site=b7" }, await TagsAsync(host, arn));
    }

    [Theory]
    [InlineData("TagResource", """{"resourceArn":"arn:aws:iot:us-west-2:000000000000:tunnel/none","tags":[{"key":"a","value":"b"}]}""", "ResourceNotFoundException")]
    [InlineData("UntagResource", """{"resourceArn":"arn:aws:iot:us-west-2:000000000000:tunnel/none","tagKeys":["a"]}""", "ResourceNotFoundException")]
    [InlineData("ListTagsForResource", """{"resourceArn":"arn:aws:iot:us-west-2:000000000000:tunnel/none"}""", "ResourceNotFoundException")]
    [InlineData("TagResource", """{"resourceArn":"ARN"}""", "ValidationException")]
    [InlineData("TagResource", """{"resourceArn":"ARN","tags":[]}""", "ValidationException")]
    [InlineData("UntagResource", """{"resourceArn":"ARN"}""", "ValidationException")]
    [InlineData("ListTagsForResource", """{}""", "ValidationException")]
    public async Task The_tagging_operations_refuse_unknown_arns_and_missing_fields(string operation, string body, string errorType)
    {
        await using var host = await ApiHost.StartAsync();
        string arn = (await host.Client.OkAsync("OpenTunnel", SshTunnel))["tunnelArn"]!.GetValue<string>();

        var result = await host.Client.CallAsync(operation, body.Replace("\"ARN\"", $"\"{arn}\""));

        result.AssertError(HttpStatusCode.BadRequest, errorType);
        Assert.Equal(new[] { "team=ops" }, await TagsAsync(host, arn));
    }

    [Fact]
    public async Task A_tunnel_opened_by_New_LocalTunnel_code_is_seen_by_the_API_and_one_opened_by_the_API_by_the_service()
    {
        await using var host = await ApiHost.StartAsync();
        var local = host.Service.CreateTunnel(new[] { "SSH" }, TimeSpan.FromSeconds(90));
        string viaApi = (await host.Client.OkAsync("OpenTunnel"))["tunnelId"]!.GetValue<string>();

        var listed = (await host.Client.OkAsync("ListTunnels"))["tunnelSummaries"]!.AsArray().Select(s => s!["tunnelId"]!.GetValue<string>());
        var described = (await host.Client.OkAsync("DescribeTunnel", new { tunnelId = local.TunnelId }))["tunnel"]!;

        Assert.Equal(new[] { viaApi, local.TunnelId }, listed);
        Assert.Equal(2, described["timeoutConfig"]!["maxLifetimeTimeoutMinutes"]!.GetValue<int>());
        Assert.Contains(host.Service.Tunnels, t => t.TunnelId == viaApi);
    }

    [Fact]
    public async Task A_tunnel_expires_at_its_lifetime_and_is_then_described_as_CLOSED()
    {
        await using var host = await ApiHost.StartAsync();
        var tunnel = host.Service.CreateTunnel(lifetime: TimeSpan.FromMilliseconds(300));

        await tunnel.Closed.WaitAsync(TimeSpan.FromSeconds(30));

        var described = (await host.Client.OkAsync("DescribeTunnel", new { tunnelId = tunnel.TunnelId }))["tunnel"]!;
        Assert.Equal("CLOSED", described["status"]!.GetValue<string>());
        Assert.Contains("the tunnel expired", host.Logs.All);
    }

    private static async Task<string[]> TagsAsync(ApiHost host, string arn) =>
        (await host.Client.OkAsync("ListTagsForResource", new { resourceArn = arn }))["tags"]!.AsArray()
            .Select(t => $"{t!["key"]!.GetValue<string>()}={t["value"]!.GetValue<string>()}").ToArray();
}
