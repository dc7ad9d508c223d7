using System.Globalization;

namespace AwsTunnel.Engine.Service.Api;

/// <summary>
/// The eight operations of the IoT Secure Tunneling control plane, on the local service's
/// tunnel registry: each validates its request as the service model says, acts, and shapes
/// the response. Failures are <see cref="ApiException"/>s with the model's error types.
/// </summary>
internal sealed class SecureTunnelingOperations
{
    private const string NextTokenPrefix = "before-";
    private const int DefaultMaxResults = 100;

    private readonly LocalTunnelRegistry _registry;

    public SecureTunnelingOperations(LocalTunnelRegistry registry)
    {
        _registry = registry;
    }

    /// <param name="request">The OpenTunnel input.</param>
    /// <param name="region">The request's credential-scope region; null for an unsigned request.</param>
    public OpenTunnelResponse OpenTunnel(OpenTunnelRequest request, string? region)
    {
        var check = new ApiValidation();
        check.Description(request.Description);
        check.Tags(request.Tags, "tags", required: false);
        check.DestinationConfig(request.DestinationConfig, "destinationConfig");
        check.TimeoutConfig(request.TimeoutConfig);
        check.ThrowIfInvalid();

        var spec = new LocalTunnelSpec
        {
            Services = request.DestinationConfig?.Services?.Select(s => s!).ToList() ?? new List<string>(),
            ThingName = request.DestinationConfig?.ThingName,
            Description = request.Description,
            Tags = ToPairs(request.Tags),
            Lifetime = TimeSpan.FromMinutes(request.TimeoutConfig?.MaxLifetimeTimeoutMinutes ?? 720),
            Region = region,
        };

        LocalTunnel tunnel;
        try
        {
            tunnel = _registry.Open(spec);
        }
        catch (TunnelLimitExceededException ex)
        {
            throw ApiException.LimitExceeded(ex.Message);
        }
        catch (ArgumentException ex)
        {
            throw ApiException.Validation($"destinationConfig.services: {ex.Message}");
        }

        return new OpenTunnelResponse
        {
            TunnelId = tunnel.TunnelId,
            TunnelArn = tunnel.TunnelArn,
            SourceAccessToken = tunnel.SourceAccessToken,
            DestinationAccessToken = tunnel.DestinationAccessToken,
        };
    }

    public async Task<EmptyResponse> CloseTunnelAsync(CloseTunnelRequest request)
    {
        var check = new ApiValidation();
        check.TunnelId(request.TunnelId);
        check.ThrowIfInvalid();

        var tunnel = FindById(request.TunnelId!);
        if (request.Delete == true)
        {
            await _registry.DeleteAsync(tunnel, "closed and deleted by CloseTunnel").ConfigureAwait(false);
        }
        else
        {
            await _registry.CloseAsync(tunnel, "closed by CloseTunnel").ConfigureAwait(false);
        }

        return new EmptyResponse();
    }

    public DescribeTunnelResponse DescribeTunnel(DescribeTunnelRequest request)
    {
        var check = new ApiValidation();
        check.TunnelId(request.TunnelId);
        check.ThrowIfInvalid();

        var tunnel = FindById(request.TunnelId!);
        return new DescribeTunnelResponse
        {
            Tunnel = new TunnelShape
            {
                TunnelId = tunnel.TunnelId,
                TunnelArn = tunnel.TunnelArn,
                Status = Status(tunnel),
                SourceConnectionState = ConnectionState(tunnel.SourceConnected, tunnel.SourceLastUpdatedAt),
                DestinationConnectionState = ConnectionState(tunnel.DestinationConnected, tunnel.DestinationLastUpdatedAt),
                Description = tunnel.Description,
                DestinationConfig = tunnel.Services.Count == 0 && tunnel.ThingName is null
                    ? null
                    : new DestinationConfigShape { ThingName = tunnel.ThingName, Services = tunnel.Services.ToList<string?>() },
                TimeoutConfig = new TimeoutConfigShape { MaxLifetimeTimeoutMinutes = (int)Math.Ceiling(tunnel.Lifetime.TotalMinutes) },
                Tags = tunnel.Tags.Count == 0 ? null : ToShapes(tunnel.Tags),
                CreatedAt = tunnel.CreatedAt,
                LastUpdatedAt = tunnel.LastUpdatedAt,
            },
        };
    }

    public ListTunnelsResponse ListTunnels(ListTunnelsRequest request)
    {
        var check = new ApiValidation();
        check.ThingName(request.ThingName, "thingName");
        check.MaxResults(request.MaxResults);
        check.NextToken(request.NextToken);
        check.ThrowIfInvalid();

        // Newest first, as the service lists; a page token names the last tunnel shown, so
        // tunnels opened meanwhile do not shift the pages.
        long before = long.MaxValue;
        if (request.NextToken is { } token &&
            !(token.StartsWith(NextTokenPrefix, StringComparison.Ordinal) &&
              long.TryParse(token.AsSpan(NextTokenPrefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out before)))
        {
            throw ApiException.Validation($"nextToken '{token}' was not returned by ListTunnels on this service; omit it to list from the newest tunnel.");
        }

        var matching = _registry.All
            .Where(t => t.Sequence < before && (request.ThingName is null || t.ThingName == request.ThingName))
            .OrderByDescending(t => t.Sequence)
            .ToList();
        var page = matching.Take(request.MaxResults ?? DefaultMaxResults).ToList();
        return new ListTunnelsResponse
        {
            TunnelSummaries = page.Select(t => new TunnelSummaryShape
            {
                TunnelId = t.TunnelId,
                TunnelArn = t.TunnelArn,
                Status = Status(t),
                Description = t.Description,
                CreatedAt = t.CreatedAt,
                LastUpdatedAt = t.LastUpdatedAt,
            }).ToList(),
            NextToken = matching.Count > page.Count
                ? NextTokenPrefix + page[^1].Sequence.ToString(CultureInfo.InvariantCulture)
                : null,
        };
    }

    public RotateTunnelAccessTokenResponse RotateTunnelAccessToken(RotateTunnelAccessTokenRequest request)
    {
        var check = new ApiValidation();
        check.TunnelId(request.TunnelId);
        var mode = check.ClientMode(request.ClientMode);
        check.DestinationConfig(request.DestinationConfig, "destinationConfig");
        check.ThrowIfInvalid();

        var tunnel = FindById(request.TunnelId!);
        if (request.DestinationConfig?.Services is { } services && !services.SequenceEqual(tunnel.Services))
        {
            throw ApiException.Validation(
                $"destinationConfig.services [{string.Join(", ", services)}] differ from the tunnel's [{string.Join(", ", tunnel.Services)}]; " +
                "a tunnel's services cannot change. Give the same services, or open a new tunnel.");
        }

        if (!_registry.RotateAccessTokens(tunnel, mode!.Value, request.DestinationConfig?.ThingName))
        {
            throw ApiException.ResourceNotFound($"Tunnel '{tunnel.TunnelId}' is closed; only an open tunnel's access tokens can be rotated.");
        }

        return new RotateTunnelAccessTokenResponse
        {
            TunnelArn = tunnel.TunnelArn,
            SourceAccessToken = mode is TunnelClientMode.Source or TunnelClientMode.All ? tunnel.SourceAccessToken : null,
            DestinationAccessToken = mode is TunnelClientMode.Destination or TunnelClientMode.All ? tunnel.DestinationAccessToken : null,
        };
    }

    public EmptyResponse TagResource(TagResourceRequest request)
    {
        var check = new ApiValidation();
        check.ResourceArn(request.ResourceArn);
        check.Tags(request.Tags, "tags", required: true);
        check.ThrowIfInvalid();

        FindByArn(request.ResourceArn!).Tag(ToPairs(request.Tags));
        return new EmptyResponse();
    }

    public EmptyResponse UntagResource(UntagResourceRequest request)
    {
        var check = new ApiValidation();
        check.ResourceArn(request.ResourceArn);
        check.TagKeys(request.TagKeys);
        check.ThrowIfInvalid();

        FindByArn(request.ResourceArn!).Untag(request.TagKeys!.Select(k => k!));
        return new EmptyResponse();
    }

    public ListTagsForResourceResponse ListTagsForResource(ListTagsForResourceRequest request)
    {
        var check = new ApiValidation();
        check.ResourceArn(request.ResourceArn);
        check.ThrowIfInvalid();

        return new ListTagsForResourceResponse { Tags = ToShapes(FindByArn(request.ResourceArn!).Tags) };
    }

    private LocalTunnel FindById(string tunnelId) =>
        _registry.Find(tunnelId) ?? throw ApiException.ResourceNotFound(
            $"Tunnel '{tunnelId}' does not exist on this local service (closed tunnels stay listed until deleted; ListTunnels shows them).");

    private LocalTunnel FindByArn(string arn) =>
        _registry.FindByArn(arn) ?? throw ApiException.ResourceNotFound(
            $"No tunnel has the ARN '{arn}' on this local service; give a tunnelArn from OpenTunnel or ListTunnels.");

    private static string Status(LocalTunnel tunnel) => tunnel.IsOpen ? "OPEN" : "CLOSED";

    private static ConnectionStateShape ConnectionState(bool connected, DateTimeOffset lastUpdatedAt) =>
        new() { Status = connected ? "CONNECTED" : "DISCONNECTED", LastUpdatedAt = lastUpdatedAt };

    private static List<KeyValuePair<string, string>> ToPairs(List<TagShape?>? tags) =>
        tags?.Select(t => KeyValuePair.Create(t!.Key!, t.Value!)).ToList() ?? new List<KeyValuePair<string, string>>();

    private static List<TagShape?> ToShapes(IReadOnlyList<KeyValuePair<string, string>> tags) =>
        tags.Select(t => (TagShape?)new TagShape { Key = t.Key, Value = t.Value }).ToList();
}
