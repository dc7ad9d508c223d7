using System.Globalization;
using System.Text;
using AwsTunnel.Bench.Codec;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Exporters;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Loggers;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

// B6: BenchmarkDotNet over the frame codec, then one table with each method's allocations per
// message at 1 KiB and 63 KiB and whether they grow with the payload.
//   AwsTunnel.Bench.Codec [--quick] [--markdown-out FILE]
bool quick = args.Contains("--quick");
int outIndex = Array.IndexOf(args, "--markdown-out");
string? markdownOut = outIndex >= 0 && outIndex + 1 < args.Length ? Path.GetFullPath(args[outIndex + 1]) : null;

// In-process: no generated project to build, so a run takes about a minute (ShortRun) or seconds (--quick).
var job = (quick
        ? Job.ShortRun.WithWarmupCount(1).WithIterationCount(3).WithIterationTime(Perfolizer.Horology.TimeInterval.FromMilliseconds(100))
        : Job.ShortRun)
    .WithToolchain(InProcessEmitToolchain.Instance)
    .WithId(quick ? "Quick" : "ShortRun");
var config = ManualConfig.CreateEmpty()
    .AddJob(job)
    .AddDiagnoser(MemoryDiagnoser.Default)
    .AddColumnProvider(DefaultColumnProviders.Instance)
    .AddLogger(ConsoleLogger.Default)
    .AddExporter(MarkdownExporter.GitHub)
    .WithArtifactsPath(Path.Combine(Directory.GetCurrentDirectory(), "BenchmarkDotNet.Artifacts"));

var summary = BenchmarkRunner.Run<DataFrameBenchmarks>(config);

// method -> payload -> (allocated bytes per op, mean ns)
var rows = new SortedDictionary<string, Dictionary<int, (long? Allocated, double? MeanNs)>>(StringComparer.Ordinal);
foreach (var report in summary.Reports)
{
    string method = report.BenchmarkCase.Descriptor.WorkloadMethod.Name;
    int payload = (int)report.BenchmarkCase.Parameters["PayloadBytes"];
    long? allocated = report.GcStats.GetBytesAllocatedPerOperation(report.BenchmarkCase);
    double? mean = report.ResultStatistics?.Mean;
    if (!rows.TryGetValue(method, out var byPayload))
    {
        rows[method] = byPayload = new Dictionary<int, (long?, double?)>();
    }

    byPayload[payload] = (allocated, mean);
}

// Checked rows are the data path the engine runs; info rows are there for comparison.
var operations = new (string Name, string Description, bool Checked)[]
{
    ("Encode", "FrameEncoder.Write (DATA already built)", true),
    ("Decode", "FrameDecoder.TryReadFrame, pooled payload (ArrayPool, returned after use), one segment (the receive path)", true),
    ("DecodeSegmented", "FrameDecoder.TryReadFrame, pooled payload, 16 KiB pipe segments (the receive path)", true),
    ("DecodePlainProtobuf", "FrameDecoder.TryReadFrame without pooling: Google.Protobuf copies the payload into a new ByteString, one segment", false),
    ("DecodeSegmentedPlainProtobuf", "FrameDecoder.TryReadFrame without pooling, 16 KiB pipe segments", false),
    ("CopyPayloadAndEncode", "ByteString.CopyFrom(read buffer) + Messages.Data + Write (a payload copy per message)", false),
    ("WrapPayloadAndEncode", "UnsafeByteOperations.UnsafeWrap(pooled read buffer) + Messages.Data + Write (no copy; the engine's send path since 583eecf)", false),
};
const int Small = 1024, Large = 64512;
var sb = new StringBuilder();
sb.AppendLine($"### Codec micro-benchmarks, B6 (BenchmarkDotNet {(quick ? "quick job: 1 warm-up, 3 x 100 ms iterations" : "ShortRun job")}, in-process, MemoryDiagnoser)");
sb.AppendLine();
sb.AppendLine("Target: no per-message allocation proportional to payload size on the data path. A checked row misses it when a message of 63 KiB allocates more than 1 KiB beyond one of 1 KiB.");
sb.AppendLine();
sb.AppendLine("| operation | time 1 KiB | time 63 KiB | allocated 1 KiB | allocated 63 KiB | status |");
sb.AppendLine("|---|---|---|---|---|---|");
foreach (var operation in operations)
{
    // A checked row that did not run says so rather than vanishing from the table.
    if (!rows.TryGetValue(operation.Name, out var r) && !operation.Checked)
    {
        continue;
    }

    r ??= new Dictionary<int, (long? Allocated, double? MeanNs)>();

    var s = r.GetValueOrDefault(Small);
    var l = r.GetValueOrDefault(Large);
    string status;
    if (s.Allocated is null || l.Allocated is null)
    {
        status = "n/a (no measurement)";
    }
    else
    {
        long growth = l.Allocated.Value - s.Allocated.Value;
        bool proportional = growth > 1024;
        status = !operation.Checked
            ? (proportional ? "info: grows with payload" : "info: flat (the zero-copy way)")
            : proportional ? $"**missed** (+{growth:N0} B per message at 63 KiB: the payload is copied)" : "met";
    }

    sb.AppendLine($"| {operation.Name}: {operation.Description} | {Ns(s.MeanNs)} | {Ns(l.MeanNs)} | {Bytes(s.Allocated)} | {Bytes(l.Allocated)} | {status} |");
}

string table = sb.ToString();
Console.WriteLine();
Console.WriteLine(table);
if (markdownOut is not null)
{
    Directory.CreateDirectory(Path.GetDirectoryName(markdownOut)!);
    File.WriteAllText(markdownOut, table);
}

return summary.HasCriticalValidationErrors || summary.Reports.Any(r => !r.Success) ? 1 : 0;

static string Ns(double? ns) => ns is null ? "n/a" : ns.Value >= 1000
    ? (ns.Value / 1000).ToString("0.00", CultureInfo.InvariantCulture) + " us"
    : ns.Value.ToString("0", CultureInfo.InvariantCulture) + " ns";

static string Bytes(long? b) => b is null ? "n/a" : b.Value.ToString("N0", CultureInfo.InvariantCulture) + " B";
