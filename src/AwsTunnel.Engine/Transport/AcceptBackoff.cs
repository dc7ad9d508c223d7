using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace AwsTunnel.Engine.Transport;

/// <summary>
/// What an accept loop does when accepting fails. Out of file descriptors (EMFILE, ENFILE) or
/// buffers, an immediate retry fails again at once and spins; so the loop waits, doubling the
/// wait from 10 ms up to 1 s, until an accept succeeds (existing connections keep working
/// meanwhile, and their closing frees descriptors). One log line per burst of failures, and
/// one when accepting works again. A peer that gave up before it was accepted is no failure.
/// Before each accept, <see cref="WaitForRoomAsync"/> keeps the process's last descriptors free
/// (<see cref="DescriptorHeadroom"/>), so running out of them is the exception, not the rule.
/// </summary>
internal sealed class AcceptBackoff
{
    private const int FirstDelayMs = 10;
    private const int MaxDelayMs = 1000;

    private readonly ILogger _logger;
    private readonly string _listener;
    private int _failures;
    private int _delayMs;
    private int _roomWaits;

    /// <param name="logger">Where the burst is logged.</param>
    /// <param name="listener">What is listening, for the log (e.g. "the local tunneling service").</param>
    public AcceptBackoff(ILogger logger, string listener)
    {
        _logger = logger;
        _listener = listener;
    }

    /// <summary>Failures in the current burst.</summary>
    public int Failures => _failures;

    /// <summary>Handles a failed accept: logs the first of a burst and waits before the next attempt.</summary>
    public async Task OnFailureAsync(SocketException error, CancellationToken cancellationToken)
    {
        if (error.SocketErrorCode is SocketError.ConnectionAborted or SocketError.ConnectionReset)
        {
            _logger.LogDebug("A connection to {Listener} went away before it was accepted: {Reason}", _listener, error.Message);
            return;
        }

        if (_failures++ == 0)
        {
            _logger.LogWarning(
                "Accepting a connection on {Listener} failed: {Reason} ({Code}). Existing connections go on; retrying with a growing delay (up to {Max} ms) and logging once when it works again.",
                _listener, error.Message, error.SocketErrorCode, MaxDelayMs);
        }

        _delayMs = _delayMs == 0 ? FirstDelayMs : Math.Min(_delayMs * 2, MaxDelayMs);
        await Task.Delay(_delayMs, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Waits, before an accept, until taking one more connection leaves the process's reserve of
    /// descriptors free: one warning when the wait begins, one line when it ends; the wait grows
    /// from 10 ms to 1 s between counts. Connections meanwhile wait in the listen queue.
    /// </summary>
    public async Task WaitForRoomAsync(CancellationToken cancellationToken)
    {
        int delayMs = FirstDelayMs;
        while (!DescriptorHeadroom.HasRoom(out long open))
        {
            if (_roomWaits++ == 0)
            {
                _logger.LogWarning(
                    "Stopped accepting on {Listener} for now: {Open} of the process's {Limit} file descriptors are open, and the last {Reserve} are kept for the runtime. New connections wait in the listen queue until others close; raise the limit (ulimit -n) to serve more at once.",
                    _listener, open, DescriptorHeadroom.Limit, DescriptorHeadroom.Reserve);
            }

            await Task.Delay(delayMs, cancellationToken).ConfigureAwait(false);
            delayMs = Math.Min(delayMs * 2, MaxDelayMs);
        }

        if (_roomWaits > 0)
        {
            _logger.LogInformation("Accepting on {Listener} again: file descriptors were freed (counted {Checks} times meanwhile).", _listener, _roomWaits);
            _roomWaits = 0;
        }
    }

    /// <summary>An accept succeeded: ends the current burst, if any.</summary>
    public void OnSuccess()
    {
        DescriptorHeadroom.OnAccepted();
        if (_failures == 0)
        {
            return;
        }

        _logger.LogInformation("Accepting on {Listener} works again after {Failures} failed attempts.", _listener, _failures);
        _failures = 0;
        _delayMs = 0;
    }
}
