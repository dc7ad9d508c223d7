using System.Security.Cryptography.X509Certificates;

namespace AwsTunnel.Engine.Transport;

/// <summary>
/// Loads the system's trusted certificates in the background, so the first TLS handshake does
/// not wait for them. On Linux, .NET's chain builder reads and parses the whole system store
/// (the CA bundle and every file of the CA directory, several hundred certificates) at the first
/// certificate validation of the process, whatever the chain policy: a custom root trust
/// (<c>-c</c>) still takes the system's intermediates. That is most of a proxy's start, and it
/// need not wait for the connection: started early, it runs while the command line is read,
/// the name resolved and the TLS handshake made. What is trusted does not change: the handshake
/// validates against the same store, which .NET caches per process (and reloads when its files
/// change or after five minutes).
/// </summary>
public static class SystemTrustStoreWarmUp
{
    // The runtime keeps the store for five minutes; a load within the last four is still warm.
    private static readonly long WarmForMs = (long)TimeSpan.FromMinutes(4).TotalMilliseconds;
    private static int _loading;
    private static long _loadedAt = -1;

    /// <summary>
    /// Starts loading the system store on a background thread of its own (not a thread-pool
    /// worker, which the connection needs meanwhile), unless a load is under way. Does nothing
    /// when the store was loaded in the last four minutes (a script that starts hundreds of sessions starts
    /// no thread for each). Only on Linux, where the first validation pays for the load.
    /// </summary>
    public static void Begin()
    {
        if (!OperatingSystem.IsLinux()
            || WarmedRecently()
            || Interlocked.Exchange(ref _loading, 1) != 0)
        {
            return;
        }

        new Thread(Load) { IsBackground = true, Name = "Trust store warm-up" }.Start();
    }

    private static bool WarmedRecently()
    {
        long loadedAt = Volatile.Read(ref _loadedAt);
        return loadedAt >= 0 && Environment.TickCount64 - loadedAt < WarmForMs;
    }

    private static void Load()
    {
        try
        {
            // The machine root store is the runtime's cached system store: reading it fills the
            // cache the chain builder uses. The copies it hands out are released at once.
            using var store = new X509Store(StoreName.Root, StoreLocation.LocalMachine);
            store.Open(OpenFlags.ReadOnly);
            foreach (var certificate in store.Certificates)
            {
                certificate.Dispose();
            }
        }
        catch (Exception ex) when (ex is System.Security.Cryptography.CryptographicException or IOException or UnauthorizedAccessException)
        {
            // The handshake loads the store itself and reports what is wrong with it.
        }
        finally
        {
            Volatile.Write(ref _loadedAt, Environment.TickCount64);
            Volatile.Write(ref _loading, 0);
        }
    }
}
