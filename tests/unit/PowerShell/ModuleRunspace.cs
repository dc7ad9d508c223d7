using System.Collections.ObjectModel;
using System.Management.Automation;
using System.Management.Automation.Runspaces;
using Pwsh = System.Management.Automation.PowerShell;

namespace AwsTunnel.Tests.PowerShellModule;

/// <summary>
/// A real PowerShell runspace (System.Management.Automation) with the built module folder
/// out/AwsTunnel imported, as a user's session would have it. Disposing it closes the
/// runspace, which stops every session and local service the module started in it.
/// </summary>
public sealed class ModuleRunspace : IDisposable
{
    private static readonly TimeSpan ScriptTimeout = TimeSpan.FromSeconds(60);
    private readonly Runspace _runspace;

    public ModuleRunspace()
    {
        _runspace = RunspaceFactory.CreateRunspace(InitialSessionState.CreateDefault2());
        _runspace.Open();
        Run("Import-Module $ModuleFolder -ErrorAction Stop", ("ModuleFolder", ModuleFolder));
    }

    /// <summary>The importable module folder the build assembles (AWSTUNNEL_MODULE_PATH overrides).</summary>
    public static string ModuleFolder { get; } = FindModuleFolder();

    /// <summary>Runs script text; output and every stream come back, nothing is asserted.</summary>
    public ScriptResult Invoke(string script, params (string Name, object? Value)[] variables)
    {
        foreach (var (name, value) in variables)
        {
            _runspace.SessionStateProxy.SetVariable(name, value);
        }

        using var ps = Pwsh.Create();
        ps.Runspace = _runspace;
        ps.AddScript(script);
        var pending = ps.BeginInvoke();
        if (!pending.AsyncWaitHandle.WaitOne(ScriptTimeout))
        {
            ps.Stop();
            throw new TimeoutException($"The script did not finish within {ScriptTimeout.TotalSeconds} s:\n{script}");
        }

        var output = new Collection<PSObject>(ps.EndInvoke(pending).ToList());
        return new ScriptResult(
            output,
            ps.Streams.Error.ToList(),
            ps.Streams.Warning.Select(w => w.Message).ToList(),
            ps.Streams.Verbose.Select(v => v.Message).ToList());
    }

    /// <summary>Runs script text that must not write errors; returns its output.</summary>
    public Collection<PSObject> Run(string script, params (string Name, object? Value)[] variables)
    {
        var result = Invoke(script, variables);
        Assert.True(result.Errors.Count == 0,
            "The script wrote errors:\n" + string.Join("\n", result.Errors.Select(e => $"{e.FullyQualifiedErrorId}: {e}")) + "\n--- script:\n" + script);
        return result.Output;
    }

    /// <summary>Runs one statement that must fail; returns the ErrorRecord it threw or wrote.</summary>
    public ErrorRecord RunExpectingError(string statement, params (string Name, object? Value)[] variables)
    {
        var result = Invoke($"try {{ {statement} }} catch {{ $_ }}", variables);
        var record = result.Output.Select(o => o.BaseObject).OfType<ErrorRecord>().FirstOrDefault() ?? result.Errors.FirstOrDefault();
        Assert.True(record is not null, "The statement did not fail:\n" + statement);
        return record!;
    }

    /// <summary>The first output object's base object, cast.</summary>
    public T RunSingle<T>(string script, params (string Name, object? Value)[] variables) =>
        Assert.IsAssignableFrom<T>(Assert.Single(Run(script, variables)).BaseObject);

    public void Dispose() => _runspace.Dispose();

    private static string FindModuleFolder()
    {
        string? overridden = Environment.GetEnvironmentVariable("AWSTUNNEL_MODULE_PATH");
        if (!string.IsNullOrEmpty(overridden))
        {
            return overridden;
        }

        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "AwsTunnel.PowerShell.sln")))
            {
                string folder = Path.Combine(dir.FullName, "out", "AwsTunnel");
                if (!File.Exists(Path.Combine(folder, "AwsTunnel.PowerShell.dll")))
                {
                    throw new InvalidOperationException(
                        $"The module folder {folder} has not been built. Run 'dotnet build AwsTunnel.PowerShell.sln' (or ./build.ps1) first.");
                }

                return folder;
            }
        }

        throw new InvalidOperationException("AwsTunnel.PowerShell.sln was not found above " + AppContext.BaseDirectory);
    }
}

/// <summary>What a script produced.</summary>
public sealed record ScriptResult(
    Collection<PSObject> Output,
    IReadOnlyList<ErrorRecord> Errors,
    IReadOnlyList<string> Warnings,
    IReadOnlyList<string> Verbose);
