using SharpFuzz;

namespace AwsTunnel.Fuzz;

/// <summary>
/// Fuzz harness for the tunneling frame reassembler, message parser and validator.
/// <code>
///   dotnet AwsTunnel.Fuzz.dll                    AFL mode, under afl-fuzz or afl-tmin (engine instrumented by sharpfuzz)
///   dotnet AwsTunnel.Fuzz.dll --replay PATH...   run files (or folders: corpus, AFL findings) without AFL
///   dotnet AwsTunnel.Fuzz.dll --write-corpus DIR write the seed corpus (and crafted regressions) to DIR
/// </code>
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        string mode = args.Length > 0 ? args[0] : "--afl";
        switch (mode)
        {
            case "--afl":
                Fuzzer.Run(stream => DecodeTarget.Run(ReadAll(stream)));
                return 0;
            case "--write-corpus" when args.Length == 2:
                Corpus.Write(args[1]);
                return 0;
            case "--replay" when args.Length >= 2:
                return Replay.Run(args.Skip(1).Where(a => a != "--verbose").ToList(), args.Contains("--verbose"));
            default:
                Console.Error.WriteLine("usage: AwsTunnel.Fuzz [--afl | --replay [--verbose] PATH... | --write-corpus DIR]");
                return 2;
        }
    }

    private static byte[] ReadAll(Stream stream)
    {
        using var memory = new MemoryStream();
        stream.CopyTo(memory);
        return memory.ToArray();
    }
}
