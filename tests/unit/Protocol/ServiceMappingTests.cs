using AwsTunnel.Engine.Tunnel;

namespace AwsTunnel.Tests.Protocol;

public class ServiceMappingTests
{
    private const string Input = "-SourceServices";

    [Theory]
    [InlineData("SSH1=5555", "SSH1", null, 5555)]
    [InlineData("5555", "", null, 5555)]
    [InlineData("SSH1=10.0.0.1:22", "SSH1", "10.0.0.1", 22)]
    [InlineData("[::1]:22", "", "::1", 22)]
    [InlineData("SSH1=[::1]:22", "SSH1", "::1", 22)]
    [InlineData("host.example:22", "", "host.example", 22)]
    [InlineData("SSH1=host.example:22", "SSH1", "host.example", 22)]
    [InlineData("HTTP=0", "HTTP", null, 0)]
    [InlineData("HTTP=65535", "HTTP", null, 65535)]
    [InlineData("  SSH1 = 5555  ", "SSH1", null, 5555)]
    public void A_valid_entry_parses_to_its_service_host_and_port(string entry, string serviceId, string? host, int port)
    {
        var mapping = ServiceMapping.Parse(entry, Input);

        Assert.Equal(new ServiceMapping(serviceId, host, port), mapping);
    }

    [Fact]
    public void An_entry_without_a_service_id_is_unnamed()
    {
        Assert.True(ServiceMapping.Parse("22", Input).IsUnnamed);
        Assert.False(ServiceMapping.Parse("SSH1=22", Input).IsUnnamed);
    }

    [Fact]
    public void A_list_with_spaces_around_entries_parses_in_order()
    {
        var list = ServiceMapping.ParseList(" SSH1=5555 , HTTP = 10.0.0.1:80,RDP=[::1]:3389 ", Input);

        Assert.Equal(
            new[]
            {
                new ServiceMapping("SSH1", null, 5555),
                new ServiceMapping("HTTP", "10.0.0.1", 80),
                new ServiceMapping("RDP", "::1", 3389),
            },
            list);
    }

    [Fact]
    public void A_list_of_one_bare_port_parses_to_one_unnamed_mapping()
    {
        var list = ServiceMapping.ParseList("5555", Input);

        Assert.Equal(new[] { new ServiceMapping("", null, 5555) }, list);
    }

    [Theory]
    [InlineData("SSH1=", "no port")]
    [InlineData("=5555", "no service id")]
    [InlineData("SSH1=99999", "99999")]
    [InlineData("SSH1=65536", "65536")]
    [InlineData("SSH1=abc", "abc")]
    [InlineData("SSH1=-1", "port")]
    [InlineData("SSH1=::1:22", "IPv6")]
    [InlineData("::1", "IPv6")]
    [InlineData("SSH1=[::1]", "IPv6")]
    [InlineData("SSH1=[::1]:", "port")]
    [InlineData("SSH1=[not-an-address]:22", "not-an-address")]
    [InlineData("SSH1=:22", "host")]
    [InlineData("SSH1=host.example:", "port")]
    public void A_malformed_entry_is_rejected_with_a_message_naming_the_entry_and_the_input(string entry, string problem)
    {
        var ex = Assert.Throws<FormatException>(() => ServiceMapping.Parse(entry, Input));

        Assert.Contains($"'{entry}'", ex.Message);
        Assert.Contains(Input, ex.Message);
        Assert.Contains(problem, ex.Message);
    }

    [Fact]
    public void A_malformed_entry_inside_a_list_is_named_in_the_error()
    {
        var ex = Assert.Throws<FormatException>(() => ServiceMapping.ParseList("SSH1=22, HTTP=abc", Input));

        Assert.Contains("'HTTP=abc'", ex.Message);
        Assert.Contains(Input, ex.Message);
    }

    [Fact]
    public void A_service_id_given_twice_is_rejected_naming_the_service_and_the_input()
    {
        var ex = Assert.Throws<FormatException>(() => ServiceMapping.ParseList("SSH1=5555,SSH1=6666", Input));

        Assert.Contains("SSH1", ex.Message);
        Assert.Contains("more than once", ex.Message);
        Assert.Contains(Input, ex.Message);
    }

    [Fact]
    public void Two_unnamed_entries_are_rejected()
    {
        var ex = Assert.Throws<FormatException>(() => ServiceMapping.ParseList("5555,6666", Input));

        Assert.Contains("unnamed", ex.Message);
    }

    [Theory]
    [InlineData("SSH1=1,,SSH2=2")]
    [InlineData("SSH1=1, ,SSH2=2")]
    [InlineData("SSH1=1,")]
    public void A_list_with_an_empty_entry_is_rejected_naming_the_list_and_the_input(string text)
    {
        var ex = Assert.Throws<FormatException>(() => ServiceMapping.ParseList(text, Input));

        Assert.Contains("empty entry", ex.Message);
        Assert.Contains($"'{text}'", ex.Message);
        Assert.Contains(Input, ex.Message);
    }

    [Theory]
    [InlineData("SSH1=5555")]
    [InlineData("5555")]
    [InlineData("SSH1=10.0.0.1:22")]
    [InlineData("[::1]:22")]
    [InlineData("SSH1=[::1]:22")]
    [InlineData("host.example:22")]
    [InlineData("SSH1=[fe80::1]:2222")]
    public void ToString_writes_the_canonical_entry_that_parses_back_to_the_same_mapping(string entry)
    {
        var mapping = ServiceMapping.Parse(entry, Input);

        Assert.Equal(entry, mapping.ToString());
        Assert.Equal(mapping, ServiceMapping.Parse(mapping.ToString(), Input));
    }

    [Fact]
    public void ToString_of_a_list_joined_with_commas_parses_back_to_the_same_list()
    {
        var list = ServiceMapping.ParseList("SSH1=5555, HTTP=[::1]:80, RDP=host.example:3389", Input);

        var again = ServiceMapping.ParseList(string.Join(",", list), Input);

        Assert.Equal(list, again);
    }

    [Theory]
    [InlineData("::1", 22, "[::1]:22")]
    [InlineData("10.0.0.1", 22, "10.0.0.1:22")]
    [InlineData("host.example", 443, "host.example:443")]
    public void FormatHostPort_brackets_IPv6_literals_only(string host, int port, string expected)
    {
        Assert.Equal(expected, ServiceMapping.FormatHostPort(host, port));
    }
}
