using AwsTunnel.Engine.Settings;

namespace AwsTunnel.Tests.Settings;

/// <summary>Environment variables, read through an injected lookup.</summary>
public class TunnelEnvironmentTests
{
    private static TunnelEnvironment Read(params (string Name, string? Value)[] variables)
    {
        var map = variables.ToDictionary(v => v.Name, v => v.Value, StringComparer.Ordinal);
        return TunnelEnvironment.Read(name => map.GetValueOrDefault(name));
    }

    [Fact]
    public void Every_variable_is_read()
    {
        var env = Read(
            ("AWSIOT_TUNNEL_ACCESS_TOKEN", "tok"),
            ("AWSIOT_TUNNEL_CLIENT_TOKEN", "client"),
            ("AWSIOT_TUNNEL_ENDPOINT", "tunnel.example.com"),
            ("AWSIOT_TUNNEL_REGION", "eu-west-1"),
            ("AWS_REGION", "us-east-2"),
            ("AWS_DEFAULT_REGION", "us-west-2"),
            ("HTTPS_PROXY", "http://proxy:3128"));

        Assert.Equal("tok", env.AccessToken);
        Assert.Equal("client", env.ClientToken);
        Assert.Equal("tunnel.example.com", env.Endpoint);
        Assert.Equal("eu-west-1", env.TunnelRegion);
        Assert.Equal("us-east-2", env.AwsRegion);
        Assert.Equal("us-west-2", env.AwsDefaultRegion);
        Assert.Equal("http://proxy:3128", env.HttpsProxy);
        Assert.Equal("HTTPS_PROXY", env.HttpsProxyVariable);
    }

    [Fact]
    public void Nothing_set_reads_as_empty()
    {
        Assert.Equal(TunnelEnvironment.Empty, Read());
    }

    [Fact]
    public void Lower_case_https_proxy_wins_when_both_are_set()
    {
        var env = Read(("HTTPS_PROXY", "http://upper:1"), ("https_proxy", "http://lower:2"));

        Assert.Equal("http://lower:2", env.HttpsProxy);
        Assert.Equal("https_proxy", env.HttpsProxyVariable);
    }

    [Fact]
    public void Empty_variables_count_as_unset()
    {
        var env = Read(("https_proxy", ""), ("HTTPS_PROXY", "http://upper:1"), ("AWSIOT_TUNNEL_REGION", "  "), ("AWSIOT_TUNNEL_ACCESS_TOKEN", ""));

        Assert.Equal("http://upper:1", env.HttpsProxy);
        Assert.Equal("HTTPS_PROXY", env.HttpsProxyVariable);
        Assert.Null(env.TunnelRegion);
        Assert.Null(env.AccessToken);
    }

    [Fact]
    public void The_older_client_token_variable_is_used_when_the_documented_one_is_absent()
    {
        Assert.Equal("old", Read(("AWSIOT_CLIENT_TOKEN", "old")).ClientToken);
        Assert.Equal("new", Read(("AWSIOT_CLIENT_TOKEN", "old"), ("AWSIOT_TUNNEL_CLIENT_TOKEN", "new")).ClientToken);
    }

    [Fact]
    public void The_description_hides_tokens_and_proxy_passwords()
    {
        var env = Read(("AWSIOT_TUNNEL_ACCESS_TOKEN", "secret-token"), ("AWSIOT_TUNNEL_CLIENT_TOKEN", "secret-client"),
            ("https_proxy", "http://user:secret-pass@proxy.example.com:8080"), ("AWSIOT_TUNNEL_REGION", "eu-west-1"));

        string text = env.ToString();

        Assert.DoesNotContain("secret", text);
        Assert.Contains("AWSIOT_TUNNEL_ACCESS_TOKEN=<redacted>", text);
        Assert.Contains("https_proxy=http://proxy.example.com:8080", text);
        Assert.Contains("AWSIOT_TUNNEL_REGION=eu-west-1", text);
    }
}
