using System.Net;
using AwsTunnel.Engine.Settings;
using AwsTunnel.Engine.Transport;
using AwsTunnel.Tests.Support;

namespace AwsTunnel.Tests.Settings;

/// <summary>Web proxy URLs (<c>HTTPS_PROXY</c>) into <see cref="IWebProxy"/>, and descriptions without secrets.</summary>
public class WebProxyResolverTests
{
    private static readonly Uri Service = new("wss://data.tunneling.iot.us-east-1.amazonaws.com");

    [Theory]
    [InlineData("http://proxy.example.com:8080", "http://proxy.example.com:8080/")]
    [InlineData("https://proxy.example.com:8443/", "https://proxy.example.com:8443/")]
    [InlineData("HTTP://Proxy.Example.com:8080", "http://proxy.example.com:8080/")]
    [InlineData("proxy.example.com:8080", "http://proxy.example.com:8080/")]
    [InlineData("http://10.0.0.1:3128", "http://10.0.0.1:3128/")]
    [InlineData("http://[::1]:3128", "http://[::1]:3128/")]
    [InlineData("http://proxy.example.com", "http://proxy.example.com:3128/")]
    public void A_proxy_url_gives_the_proxy_address(string url, string expected)
    {
        var proxy = WebProxyResolver.Create(url, "HTTPS_PROXY");

        Assert.Equal(new Uri(expected), proxy.GetProxy(Service));
        Assert.False(proxy.IsBypassed(new Uri("wss://127.0.0.1:443")));
        Assert.Null(proxy.Credentials);
    }

    [Fact]
    public void A_missing_port_warns_and_uses_3128()
    {
        var logs = new LogCapture();

        WebProxyResolver.Create("http://user:pw@proxy.example.com", "HTTPS_PROXY", logs.CreateLogger("test"));

        Assert.Contains(logs.Lines, l => l.StartsWith("Warning") && l.Contains("HTTPS_PROXY names no port") && l.Contains("3128"));
        Assert.DoesNotContain("pw", logs.All.Replace("port", string.Empty));
    }

    [Theory]
    [InlineData("http://user:pass@proxy:8080", "user", "pass")]
    [InlineData("http://us%40er:p%3Ass%2Fw%40rd@proxy:8080", "us@er", "p:ss/w@rd")]
    [InlineData("http://user:p@ss@proxy:8080", "user", "p@ss")]
    [InlineData("http://user:a+b@proxy:8080", "user", "a+b")]
    [InlineData("http://user:100%zz@proxy:8080", "user", "100%zz")]
    [InlineData("http://user:@proxy:8080", "user", "")]
    public void User_and_password_become_decoded_credentials(string url, string user, string password)
    {
        var proxy = WebProxyResolver.Create(url, "HTTPS_PROXY");

        var credential = proxy.Credentials!.GetCredential(new Uri("http://proxy:8080"), "Basic");
        Assert.Equal(user, credential!.UserName);
        Assert.Equal(password, credential.Password);
        Assert.Equal(new Uri("http://proxy:8080/"), proxy.GetProxy(Service));
    }

    [Theory]
    [InlineData("socks5://proxy:1080", "scheme is 'socks5'")]
    [InlineData("http://", "names no host")]
    [InlineData("http://proxy:8080/path", "has a path")]
    [InlineData("http://proxy:notaport", "host or port is malformed")]
    [InlineData("http://proxy:70000", "host or port is malformed")]
    [InlineData("http://secretuser@proxy:8080", "no ':' between user and password")]
    [InlineData("http://@proxy:8080", "remove the '@'")]
    [InlineData("http://::1:8080", "host or port is malformed")]
    public void An_invalid_url_names_the_variable_and_the_expected_form_without_echoing_it(string url, string why)
    {
        var error = Assert.Throws<ArgumentException>(() => WebProxyResolver.Create(url, "https_proxy"));

        Assert.StartsWith("https_proxy is not a usable web proxy URL", error.Message);
        Assert.Contains(why, error.Message);
        Assert.Contains("http://[USER:PASSWORD@]HOST[:PORT]", error.Message);
        Assert.DoesNotContain("secret", error.Message);
    }

    [Fact]
    public void Describe_never_shows_credentials()
    {
        Assert.Equal("http://proxy.example.com:8080", WebProxyResolver.Describe(new Uri("http://user:secret@proxy.example.com:8080/")));
        Assert.Equal("https://proxy.example.com:8443", WebProxyResolver.DescribeText("https://user:secret@proxy.example.com:8443"));
        Assert.Equal("http://[::1]:3128", WebProxyResolver.DescribeText("http://[::1]:3128"));
        Assert.Equal("(an invalid proxy URL)", WebProxyResolver.DescribeText("ftp://user:secret@x"));
        var proxy = WebProxyResolver.Create("http://user:secret@proxy.example.com:8080", "HTTPS_PROXY");
        Assert.Equal("http://proxy.example.com:8080", WebProxyResolver.Describe(proxy, Service));
        Assert.Equal("direct", WebProxyResolver.Describe(new WebProxy(), Service));
    }

    [Fact]
    public void From_environment_uses_the_variable_that_won_and_names_it_in_errors()
    {
        var env = TunnelEnvironment.Read(name => name switch
        {
            "https_proxy" => "socks://user:secret@x:1",
            "HTTPS_PROXY" => "http://fine:3128",
            _ => null,
        });

        var error = Assert.Throws<ArgumentException>(() => WebProxyResolver.FromEnvironment(env));

        Assert.StartsWith("https_proxy is not", error.Message);
        Assert.Null(WebProxyResolver.FromEnvironment(TunnelEnvironment.Empty));
        Assert.Equal(new Uri("http://fine:3128/"),
            WebProxyResolver.FromEnvironment(TunnelEnvironment.Read(n => n == "HTTPS_PROXY" ? "http://fine:3128" : null))!.GetProxy(Service));
    }

    [Fact]
    public void An_address_and_credential_build_a_proxy_like_the_cmdlet_parameters()
    {
        var proxy = WebProxyResolver.Create(new Uri("http://ignored:x@proxy:8080/"), new NetworkCredential("u", "p"));

        Assert.Equal(new Uri("http://proxy:8080/"), proxy.GetProxy(Service));
        Assert.Equal("u", proxy.Credentials!.GetCredential(new Uri("http://proxy:8080"), "Basic")!.UserName);
        Assert.Throws<ArgumentException>(() => WebProxyResolver.Create(new Uri("ftp://proxy:21"), null));
    }
}
