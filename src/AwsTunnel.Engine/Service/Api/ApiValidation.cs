using System.Text.RegularExpressions;

namespace AwsTunnel.Engine.Service.Api;

/// <summary>
/// The service model's constraints on request members (required, length, range, pattern,
/// enum), gathered into one ValidationException worded as AWS words it
/// ("1 validation error detected: Value ... at 'member' failed to satisfy constraint: ...").
/// </summary>
internal sealed partial class ApiValidation
{
    private readonly List<string> _errors = new();

    [GeneratedRegex(@"^[a-zA-Z0-9_\-+=:]{1,128}$")]
    private static partial Regex TunnelIdPattern();

    [GeneratedRegex(@"^[a-zA-Z0-9:_-]+$")]
    private static partial Regex NamePattern();

    [GeneratedRegex(@"^[^\p{C}]{1,2048}$")]
    private static partial Regex DescriptionPattern();

    [GeneratedRegex(@"^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$")]
    private static partial Regex TagPattern();

    [GeneratedRegex(@"^[a-zA-Z0-9_=-]{1,4096}$")]
    private static partial Regex NextTokenPattern();

    public void Required(object? value, string member)
    {
        if (value is null)
        {
            _errors.Add($"Value null at '{member}' failed to satisfy constraint: Member must not be null");
        }
    }

    public void TunnelId(string? value, string member = "tunnelId")
    {
        Required(value, member);
        Pattern(value, member, TunnelIdPattern(), @"[a-zA-Z0-9_\-+=:]{1,128}");
    }

    public void Description(string? value) => Pattern(value, "description", DescriptionPattern(), @"[^\p{C}]{1,2048}");

    public void ThingName(string? value, string member) => Name(value, member, 1, 128);

    public void DestinationConfig(DestinationConfigShape? config, string member)
    {
        if (config is null)
        {
            return;
        }

        ThingName(config.ThingName, member + ".thingName");
        Required(config.Services, member + ".services");
        if (config.Services is { } services)
        {
            if (services.Count < 1)
            {
                _errors.Add($"Value [] at '{member}.services' failed to satisfy constraint: Member must have length greater than or equal to 1");
            }

            for (int i = 0; i < services.Count; i++)
            {
                Required(services[i], $"{member}.services.{i + 1}.member");
                Name(services[i], $"{member}.services.{i + 1}.member", 1, 128);
            }
        }
    }

    public void TimeoutConfig(TimeoutConfigShape? config)
    {
        if (config?.MaxLifetimeTimeoutMinutes is { } minutes)
        {
            Range(minutes, "timeoutConfig.maxLifetimeTimeoutMinutes", 1, 720);
        }
    }

    public void Tags(List<TagShape?>? tags, string member, bool required)
    {
        if (required)
        {
            Required(tags, member);
        }

        if (tags is null)
        {
            return;
        }

        if (tags.Count is < 1 or > 200)
        {
            _errors.Add($"Value with {tags.Count} tags at '{member}' failed to satisfy constraint: Member must have length between 1 and 200");
        }

        for (int i = 0; i < tags.Count; i++)
        {
            string at = $"{member}.{i + 1}.member";
            Required(tags[i], at);
            if (tags[i] is { } tag)
            {
                TagKey(tag.Key, at + ".key");
                Required(tag.Value, at + ".value");
                Length(tag.Value, at + ".value", 0, 256);
                Pattern(tag.Value, at + ".value", TagPattern(), @"^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$");
            }
        }

        var duplicate = tags.Where(t => t?.Key is not null).GroupBy(t => t!.Key, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            _errors.Add($"Value at '{member}' failed to satisfy constraint: Tag key '{duplicate.Key}' must be given once");
        }
    }

    public void TagKeys(List<string?>? keys)
    {
        Required(keys, "tagKeys");
        if (keys is null)
        {
            return;
        }

        if (keys.Count > 200)
        {
            _errors.Add($"Value with {keys.Count} keys at 'tagKeys' failed to satisfy constraint: Member must have length less than or equal to 200");
        }

        for (int i = 0; i < keys.Count; i++)
        {
            Required(keys[i], $"tagKeys.{i + 1}.member");
            TagKey(keys[i], $"tagKeys.{i + 1}.member");
        }
    }

    public void ResourceArn(string? value)
    {
        Required(value, "resourceArn");
        Length(value, "resourceArn", 1, 1011);
    }

    public void MaxResults(int? value)
    {
        if (value is { } max)
        {
            Range(max, "maxResults", 1, 100);
        }
    }

    public void NextToken(string? value) => Pattern(value, "nextToken", NextTokenPattern(), "[a-zA-Z0-9_=-]{1,4096}");

    public TunnelClientMode? ClientMode(string? value)
    {
        Required(value, "clientMode");
        switch (value)
        {
            case null:
                return null;
            case "SOURCE":
                return TunnelClientMode.Source;
            case "DESTINATION":
                return TunnelClientMode.Destination;
            case "ALL":
                return TunnelClientMode.All;
            default:
                _errors.Add($"Value '{value}' at 'clientMode' failed to satisfy constraint: Member must satisfy enum value set: [SOURCE, DESTINATION, ALL]");
                return null;
        }
    }

    /// <exception cref="ApiException">ValidationException listing every broken constraint.</exception>
    public void ThrowIfInvalid()
    {
        if (_errors.Count > 0)
        {
            string count = _errors.Count == 1 ? "1 validation error detected" : $"{_errors.Count} validation errors detected";
            throw ApiException.Validation($"{count}: {string.Join("; ", _errors)}");
        }
    }

    private void TagKey(string? value, string member)
    {
        Required(value, member);
        Length(value, member, 1, 128);
        Pattern(value, member, TagPattern(), @"^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$");
    }

    private void Name(string? value, string member, int min, int max)
    {
        Length(value, member, min, max);
        Pattern(value, member, NamePattern(), "[a-zA-Z0-9:_-]+");
    }

    private void Length(string? value, string member, int min, int max)
    {
        if (value is not null && (value.Length < min || value.Length > max))
        {
            _errors.Add($"Value '{Shorten(value)}' at '{member}' failed to satisfy constraint: Member must have length between {min} and {max}");
        }
    }

    private void Range(int value, string member, int min, int max)
    {
        if (value < min || value > max)
        {
            _errors.Add($"Value '{value}' at '{member}' failed to satisfy constraint: Member must be between {min} and {max}");
        }
    }

    private void Pattern(string? value, string member, Regex regex, string pattern)
    {
        if (value is not null && !regex.IsMatch(value))
        {
            _errors.Add($"Value '{Shorten(value)}' at '{member}' failed to satisfy constraint: Member must satisfy regular expression pattern: {pattern}");
        }
    }

    // A 2 KiB value quoted back whole would bury the message.
    private static string Shorten(string value) => value.Length <= 80 ? value : value[..77] + "...";
}
