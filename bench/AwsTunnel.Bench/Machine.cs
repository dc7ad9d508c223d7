using System.Runtime.InteropServices;

namespace AwsTunnel.Bench;

internal static class Machine
{
    /// <summary>The 1/5/15-minute load averages: the machine is shared, so this says how quiet it was.</summary>
    public static string LoadAverage()
    {
        try
        {
            return string.Join(" / ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3));
        }
        catch (IOException)
        {
            return "n/a";
        }
    }

    /// <summary>Cores, CPU model, memory, OS and runtime, for the table's header.</summary>
    public static string Describe()
    {
        string cpu = "unknown CPU";
        string memory = "unknown memory";
        try
        {
            cpu = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? cpu;
            var memKb = File.ReadLines("/proc/meminfo").FirstOrDefault(l => l.StartsWith("MemTotal:", StringComparison.Ordinal));
            if (memKb is not null)
            {
                long kb = long.Parse(memKb.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture);
                memory = $"{kb / 1048576.0:0.0} GiB RAM";
            }
        }
        catch (IOException)
        {
        }

        return $"{Environment.ProcessorCount} cores (nproc), {cpu}, {memory}, {RuntimeInformation.OSDescription}, {RuntimeInformation.FrameworkDescription}";
    }
}
