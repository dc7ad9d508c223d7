using System.Diagnostics;

namespace AwsTunnel.Fuzz;

/// <summary>Runs saved inputs through the target without AFL: to reproduce and describe a finding.</summary>
public static class Replay
{
    private static readonly string[] AflResultFolders = ["queue", "crashes", "hangs"];

    public static int Run(IReadOnlyList<string> paths, bool verbose)
    {
        var files = paths.SelectMany(Inputs).Distinct().ToList();
        int failed = 0;
        var watch = Stopwatch.StartNew();
        foreach (string file in files)
        {
            byte[] input = File.ReadAllBytes(file);
            try
            {
                DecodeTarget.Run(input);
                if (verbose)
                {
                    Console.WriteLine($"ok    {file} ({input.Length} bytes)");
                }
            }
            catch (Exception ex)
            {
                failed++;
                Console.WriteLine($"FAIL  {file} ({input.Length} bytes)");
                Console.WriteLine($"      input: {Hex(input)}");
                Console.WriteLine($"      {ex.GetType().FullName}: {ex.Message}");
                foreach (string line in (ex.StackTrace ?? string.Empty).Split('\n').Take(12))
                {
                    Console.WriteLine($"      {line.TrimEnd()}");
                }
            }
        }

        var s = DecodeTarget.Stats;
        Console.WriteLine(
            $"replay: {files.Count} inputs in {watch.Elapsed.TotalSeconds:F1} s; {s.Frames} frames decoded, {s.ProtocolErrors} protocol errors, " +
            $"{s.PartialEnds} streams ending inside a frame; {s.PooledFrames} pooled-payload decodes checked against the plain one; CheckReceivedByProxy verdicts (3 ways x 2 modes): {s.Accepted} accept, {s.Ignored} ignore, {s.Violations} violation; " +
            $"largest allocation for one frame: {s.MaxAllocatedPerFrame} bytes (a {s.MaxAllocatedFrameBytes}-byte frame; budget {DecodeTarget.AllocationBudgetPerFrame}).");
        Console.WriteLine($"replay: {files.Count - failed} passed, {failed} failed");
        return failed == 0 ? 0 : 1;
    }

    /// <summary>A file, or every input under a folder; in an AFL instance folder only queue, crashes and hangs.</summary>
    private static IEnumerable<string> Inputs(string path)
    {
        if (File.Exists(path))
        {
            return [path];
        }

        if (!Directory.Exists(path))
        {
            throw new FileNotFoundException($"No file or folder {path}.");
        }

        if (File.Exists(Path.Combine(path, "fuzzer_stats")))
        {
            return AflResultFolders.Select(f => Path.Combine(path, f)).Where(Directory.Exists)
                .SelectMany(f => Directory.EnumerateFiles(f).Where(IsInput)).Order(StringComparer.Ordinal);
        }

        return Directory.EnumerateFiles(path).Where(IsInput).Order(StringComparer.Ordinal)
            .Concat(Directory.EnumerateDirectories(path).Where(d => !Path.GetFileName(d).StartsWith('.')).Order(StringComparer.Ordinal).SelectMany(Inputs));
    }

    private static bool IsInput(string file)
    {
        string name = Path.GetFileName(file);
        return !name.StartsWith('.') && !name.StartsWith("README", StringComparison.OrdinalIgnoreCase) &&
               !name.EndsWith(".md", StringComparison.OrdinalIgnoreCase) && !name.EndsWith(".txt", StringComparison.OrdinalIgnoreCase);
    }

    private static string Hex(byte[] input) =>
        input.Length <= 128
            ? Convert.ToHexString(input)
            : $"{Convert.ToHexString(input, 0, 96)}...({input.Length - 128} more)...{Convert.ToHexString(input, input.Length - 32, 32)}";
}
