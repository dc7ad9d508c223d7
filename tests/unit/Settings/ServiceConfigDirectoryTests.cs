using AwsTunnel.Engine.Settings;
using AwsTunnel.Engine.Tunnel;

namespace AwsTunnel.Tests.Settings;

/// <summary><c>--config-dir DIR</c>: service mappings from every file in a directory tree.</summary>
public class ServiceConfigDirectoryTests
{
    [Fact]
    public void The_reference_source_example_maps_services_to_ports()
    {
        using var temp = new TempDirectory();
        temp.Write("SSHSource.ini", "SSH1=3333\nSSH2=5555\n");

        var mappings = ServiceConfigDirectory.Load(temp.Path);

        Assert.Equal(new[] { new ServiceMapping("SSH1", null, 3333), new ServiceMapping("SSH2", null, 5555) }, mappings);
    }

    [Fact]
    public void The_reference_destination_example_maps_services_to_hosts_and_ports()
    {
        using var temp = new TempDirectory();
        temp.Write("SSHDestination.ini", "SSH1=22\nSSH2=10.0.0.1:80\n");

        var mappings = ServiceConfigDirectory.Load(temp.Path);

        Assert.Equal(new[] { new ServiceMapping("SSH1", null, 22), new ServiceMapping("SSH2", "10.0.0.1", 80) }, mappings);
    }

    [Fact]
    public void Files_in_subfolders_comments_blank_lines_and_spaces_are_read()
    {
        using var temp = new TempDirectory();
        temp.Write("a.ini", "# web\n\nHTTP = 8080\r\n");
        temp.Write("nested/deeper/b.conf", "; ini comment\n  RDP = [::1]:3389  \n");
        temp.Write("nested/c", "DB=db.internal:5432");

        var mappings = ServiceConfigDirectory.Load(temp.Path);

        Assert.Equal(3, mappings.Count);
        Assert.Contains(new ServiceMapping("HTTP", null, 8080), mappings);
        Assert.Contains(new ServiceMapping("RDP", "::1", 3389), mappings);
        Assert.Contains(new ServiceMapping("DB", "db.internal", 5432), mappings);
    }

    [Fact]
    public void Hidden_files_and_folders_are_skipped()
    {
        using var temp = new TempDirectory();
        temp.Write(".swp", "garbage");
        temp.Write(".git/config", "[core]\nbare = false");
        temp.Write("ssh.ini", "SSH1=22");

        Assert.Single(ServiceConfigDirectory.Load(temp.Path));
    }

    [Fact]
    public void An_empty_directory_has_no_mappings()
    {
        using var temp = new TempDirectory();

        Assert.Empty(ServiceConfigDirectory.Load(temp.Path));
    }

    [Fact]
    public void A_duplicate_service_across_files_names_both_files()
    {
        using var temp = new TempDirectory();
        string first = temp.Write("a.ini", "SSH1=22\n");
        string second = temp.Write("sub/b.ini", "# again\nSSH1=2222\n");

        var error = Assert.Throws<SettingsException>(() => ServiceConfigDirectory.Load(temp.Path));

        Assert.Contains("'SSH1' is mapped twice", error.Message);
        Assert.Contains($"{first}:1", error.Message);
        Assert.Contains($"{second}:2", error.Message);
    }

    [Fact]
    public void A_duplicate_service_in_one_file_names_both_lines()
    {
        using var temp = new TempDirectory();
        string file = temp.Write("a.ini", "SSH1=22\nSSH1=23\n");

        var error = Assert.Throws<SettingsException>(() => ServiceConfigDirectory.Load(temp.Path));

        Assert.Contains($"{file}:1 and in {file}:2", error.Message);
    }

    [Theory]
    [InlineData("SSH1=abc", "invalid port 'abc'")]
    [InlineData("SSH1=", "no port after '='")]
    [InlineData("=22", "no service id")]
    [InlineData("5555", "has no service id")]
    [InlineData("SSH1=22 # ssh", "invalid port")]
    [InlineData("[services]", "sections")]
    public void A_malformed_line_names_the_file_and_line(string line, string expected)
    {
        using var temp = new TempDirectory();
        string file = temp.Write("bad.ini", $"OK=1\n{line}\n");

        var error = Assert.Throws<SettingsException>(() => ServiceConfigDirectory.Load(temp.Path));

        Assert.Contains($"{file}:2", error.Message);
        Assert.Contains(expected, error.Message);
    }

    [Fact]
    public void A_missing_directory_is_an_error_naming_it()
    {
        var error = Assert.Throws<SettingsException>(() => ServiceConfigDirectory.Load("/nonexistent/config"));

        Assert.Contains("'/nonexistent/config' does not exist", error.Message);
    }

    [Fact]
    public void A_file_given_as_the_directory_is_an_error()
    {
        using var temp = new TempDirectory();
        string file = temp.Write("a.ini", "SSH1=22");

        var error = Assert.Throws<SettingsException>(() => ServiceConfigDirectory.Load(file));

        Assert.Contains("is a file", error.Message);
    }

    [Fact]
    public void The_default_directory_is_config_beside_the_program()
    {
        Assert.Equal(Path.Combine("/opt/awstunnel", "config"), ServiceConfigDirectory.DefaultDirectory("/opt/awstunnel"));
    }

    [Fact]
    public void Only_the_announced_services_are_taken_from_the_directory()
    {
        var mappings = new[] { new ServiceMapping("SSH1", null, 3333), new ServiceMapping("HTTP", null, 8080), new ServiceMapping("RDP", null, 3389) };

        var selected = ServiceConfigDirectory.SelectFor(mappings, new[] { "SSH1", "RDP", "VNC" });

        Assert.Equal(new[] { mappings[0], mappings[2] }, selected);
        Assert.Empty(ServiceConfigDirectory.SelectFor(mappings, null));
        Assert.Empty(ServiceConfigDirectory.SelectFor(mappings, Array.Empty<string>()));
    }

    [Fact]
    public void Selected_mappings_resolve_against_the_announced_services_with_free_ports_for_the_rest()
    {
        var mappings = new[] { new ServiceMapping("SSH1", null, 3333), new ServiceMapping("OTHER", null, 1) };
        string[] announced = { "SSH1", "HTTP" };

        var resolved = ServiceResolution.Resolve(AwsTunnel.Engine.Protocol.TunnelMode.Source, ServiceConfigDirectory.SelectFor(mappings, announced), announced);

        Assert.Equal(3333, resolved["SSH1"].Port);
        Assert.Equal(0, resolved["HTTP"].Port);
    }

    [Fact]
    public void Loaded_mappings_are_accepted_by_tunnel_options()
    {
        using var temp = new TempDirectory();
        temp.Write("dest.ini", "SSH1=127.0.0.1:22\nHTTP=80\n");
        var options = new TunnelOptions
        {
            Mode = AwsTunnel.Engine.Protocol.TunnelMode.Destination,
            ServiceUri = new Uri("wss://localhost"),
            AccessToken = "token",
            Services = ServiceConfigDirectory.Load(temp.Path),
        };

        options.Validate();
    }
}
