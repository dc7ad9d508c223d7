using System.Globalization;

namespace AwsTunnel.Bench;

/// <summary>Command-line options of the end-to-end bench. Every size and count has a default and a quick default.</summary>
internal sealed class BenchOptions
{
    public bool Quick { get; private set; }
    public string CliDll { get; private set; } = string.Empty;
    public string Dotnet { get; private set; } = "dotnet";
    public string WorkDir { get; private set; } = Path.Combine(Path.GetTempPath(), "awstunnel-bench");
    public string? PidFile { get; private set; }
    public string? MarkdownOut { get; private set; }
    public HashSet<string> Only { get; } = new(StringComparer.OrdinalIgnoreCase);

    public int Reps { get; private set; } = 5;
    public long B1Bytes { get; private set; } = 1L << 30;
    public int B2Trips { get; private set; } = 10_000;
    /// <summary>0 = auto: 1,000 if the CLI accepts --settings-json, else the engine's default limit of 128.</summary>
    public int B3Connections { get; private set; }
    public long B3Bytes { get; private set; } = 1L << 20;
    public int B4Tunnels { get; private set; } = 250;
    public long B4Bytes { get; private set; } = 1L << 20;
    public string B4Layout { get; private set; } = "split";
    public double B5Seconds { get; private set; } = 10;

    /// <summary>The reference localproxy for B7: --localproxy, else the LOCALPROXY environment variable; null skips B7.</summary>
    public string? LocalProxy { get; private set; } = Environment.GetEnvironmentVariable("LOCALPROXY") is { Length: > 0 } lp ? lp : null;
    public long B7WarmupBytes { get; private set; } = 64L << 20;
    public long B7Bytes { get; private set; } = 512L << 20;
    public int B7Trips { get; private set; } = 2_000;

    /// <summary>PowerShell for B7's module pair: pwsh.dll (run by --dotnet) or a pwsh executable; null leaves the module out.</summary>
    public string? Pwsh { get; private set; }

    /// <summary>The built module folder (with AwsTunnel.psd1) that B7's module pair imports.</summary>
    public string? ModuleDir { get; private set; }

    public bool Runs(string bench) => Only.Count == 0 || Only.Contains(bench);

    public static BenchOptions Parse(string[] args)
    {
        var o = new BenchOptions();
        // --quick first, so explicit sizes given with it win.
        if (args.Contains("--quick"))
        {
            o.Quick = true;
            o.Reps = 1;
            o.B1Bytes = 64L << 20;
            o.B2Trips = 2_000;
            o.B3Bytes = 256L << 10;
            o.B4Tunnels = 20;
            o.B4Bytes = 256L << 10;
            o.B5Seconds = 3;
            o.B7WarmupBytes = 16L << 20;
            o.B7Bytes = 64L << 20;
            o.B7Trips = 500;
        }

        for (int i = 0; i < args.Length; i++)
        {
            string a = args[i];
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{a} needs a value.");
            switch (a)
            {
                case "--quick": break;
                case "--cli": o.CliDll = Path.GetFullPath(Next()); break;
                case "--dotnet": o.Dotnet = Next(); break;
                case "--work": o.WorkDir = Path.GetFullPath(Next()); break;
                case "--pid-file": o.PidFile = Path.GetFullPath(Next()); break;
                case "--markdown-out": o.MarkdownOut = Path.GetFullPath(Next()); break;
                case "--only":
                    foreach (var b in Next().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                    {
                        o.Only.Add(b);
                    }

                    break;
                case "--reps": o.Reps = Math.Clamp(int.Parse(Next(), CultureInfo.InvariantCulture), 1, 20); break;
                case "--b1-bytes": o.B1Bytes = Size.Parse(Next()); break;
                case "--b2-trips": o.B2Trips = Math.Clamp(int.Parse(Next(), CultureInfo.InvariantCulture), 100, 1_000_000); break;
                case "--b3-connections":
                    string c = Next();
                    o.B3Connections = c == "auto" ? 0 : Math.Clamp(int.Parse(c, CultureInfo.InvariantCulture), 1, 10_000);
                    break;
                case "--b3-bytes": o.B3Bytes = Size.Parse(Next()); break;
                case "--b4-tunnels": o.B4Tunnels = Math.Clamp(int.Parse(Next(), CultureInfo.InvariantCulture), 2, 2_000); break;
                case "--b4-bytes": o.B4Bytes = Size.Parse(Next()); break;
                case "--b4-layout":
                    o.B4Layout = Next() switch
                    {
                        "split" => "split",
                        "single" => "single",
                        var other => throw new ArgumentException($"--b4-layout '{other}': give split or single."),
                    };
                    break;
                case "--b5-seconds": o.B5Seconds = Math.Clamp(double.Parse(Next(), CultureInfo.InvariantCulture), 1, 300); break;
                case "--localproxy": o.LocalProxy = Path.GetFullPath(Next()); break;
                case "--b7-warmup-bytes": o.B7WarmupBytes = Size.Parse(Next()); break;
                case "--b7-bytes": o.B7Bytes = Size.Parse(Next()); break;
                case "--b7-trips": o.B7Trips = Math.Clamp(int.Parse(Next(), CultureInfo.InvariantCulture), 100, 1_000_000); break;
                case "--pwsh": o.Pwsh = Path.GetFullPath(Next()); break;
                case "--module": o.ModuleDir = Path.GetFullPath(Next()); break;
                case "-h":
                case "--help":
                    throw new HelpRequested();
                default:
                    throw new ArgumentException($"Unknown option '{a}'. See --help.");
            }
        }

        if ((o.Pwsh is null) != (o.ModuleDir is null))
        {
            throw new ArgumentException("--pwsh and --module go together: B7's module pair needs PowerShell and the built module folder.");
        }

        if (o.ModuleDir is not null && !File.Exists(Path.Combine(o.ModuleDir, "AwsTunnel.psd1")))
        {
            throw new ArgumentException($"--module '{o.ModuleDir}' holds no AwsTunnel.psd1: build src/AwsTunnel.PowerShell first (it assembles out/AwsTunnel).");
        }

        if (string.IsNullOrEmpty(o.CliDll) || !File.Exists(o.CliDll))
        {
            throw new ArgumentException("--cli PATH/awstunnel.dll (or the awstunnel executable) is required (build src/AwsTunnel.Cli -c Release first; bench/run.sh does).");
        }

        return o;
    }

    public const string Usage = """
        AwsTunnel.Bench --cli PATH/awstunnel.dll|PATH/awstunnel [options]
          --quick                small sizes, one repetition (smoke check)
          --only B1,B2,...       run only these benchmarks (B1..B5, B7, B8)
          --reps N               repetitions per benchmark, medians reported (default 5)
          --b1-bytes SIZE        bytes per B1 transfer (default 1G)
          --b2-trips N           round trips per B2 run (default 10000)
          --b3-connections N     simultaneous B3 connections (default auto: 1000 if --settings-json works, else 128)
          --b3-bytes SIZE        bytes echoed per B3 connection (default 1M)
          --b4-tunnels N         B4 tunnels (default 250)
          --b4-bytes SIZE        bytes echoed per B4 session (default 1M)
          --b4-layout split|single  split: sources in one process, destinations in another (default);
                                 single: all sessions of both ends in one process
          --b5-seconds S         B5 measuring window under load (default 10)
          --localproxy PATH      the reference localproxy for B7 (default: $LOCALPROXY; without it B7 is skipped)
          --b7-warmup-bytes SIZE B7 warm-up echo per proxy pair (default 64M)
          --b7-bytes SIZE        B7 bulk transfer per proxy pair (default 512M)
          --b7-trips N           B7 64-byte round trips per proxy pair (default 2000)
          --pwsh PATH            pwsh.dll or pwsh: B7 adds a third pair, the module in-process in PowerShell
          --module DIR           the built module folder (AwsTunnel.psd1) for that pair (both or neither)
          --dotnet PATH          dotnet host used to run awstunnel.dll (default dotnet)
          --work DIR             scratch directory (certificates, settings)
          --pid-file FILE        child process ids are appended here (run.sh cleans them up)
          --markdown-out FILE    also write the result table here
        SIZE accepts suffixes K, M, G (binary).
        """;
}

internal sealed class HelpRequested : Exception;

/// <summary>Parses and formats byte counts.</summary>
internal static class Size
{
    public static long Parse(string text)
    {
        text = text.Trim();
        long unit = 1;
        string number = text;
        string t = text.ToUpperInvariant().Replace("IB", string.Empty, StringComparison.Ordinal).TrimEnd('B');
        if (t.Length > 0 && char.IsLetter(t[^1]))
        {
            unit = t[^1] switch
            {
                'K' => 1L << 10,
                'M' => 1L << 20,
                'G' => 1L << 30,
                _ => throw new ArgumentException($"Size '{text}': unknown suffix."),
            };
            number = t[..^1];
        }
        else
        {
            number = t;
        }

        double value = double.Parse(number, CultureInfo.InvariantCulture);
        long bytes = (long)(value * unit);
        return bytes > 0 ? bytes : throw new ArgumentException($"Size '{text}' must be positive.");
    }

    public static string Format(long bytes) => bytes switch
    {
        >= 1L << 30 when bytes % (1L << 30) == 0 => $"{bytes >> 30} GiB",
        >= 1L << 20 when bytes % (1L << 20) == 0 => $"{bytes >> 20} MiB",
        >= 1L << 10 when bytes % (1L << 10) == 0 => $"{bytes >> 10} KiB",
        _ => $"{bytes} B",
    };
}
