using System.Threading.Channels;
using AwsTunnel.Engine.Protocol;
using AwsTunnel.Engine.Transport;
using AwsTunnel.Tests.Support;

namespace AwsTunnel.Tests.Engine;

/// <summary>The link's scheduler: bounded turns, granted in the order asked (producers with nothing queued first), so busy producers alternate.</summary>
public class SendSchedulerTests
{
    [Fact]
    public async Task At_most_the_given_number_of_turns_are_out_until_the_send_loop_takes_a_frame()
    {
        var scheduler = new SendScheduler(turns: 2);
        await scheduler.WaitTurnAsync(CancellationToken.None);
        await scheduler.WaitTurnAsync(CancellationToken.None);
        scheduler.PostInTurn(Frame(1));
        var third = scheduler.WaitTurnAsync(CancellationToken.None);
        Assert.False(third.IsCompleted);

        Assert.True(scheduler.TryTake(out var taken));
        Assert.Equal(1, taken.Message.StreamId);
        await third.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task One_producer_holds_at_most_its_share_so_a_newcomer_gets_a_turn_at_once()
    {
        var scheduler = new SendScheduler(turns: 16, turnsPerProducer: 4);
        var bulk = new TurnShare();
        for (int i = 0; i < 4; i++)
        {
            await scheduler.WaitTurnAsync(CancellationToken.None, bulk);
            scheduler.PostInTurn(Frame(1), bulk);
        }

        var fifth = scheduler.WaitTurnAsync(CancellationToken.None, bulk);
        Assert.False(fifth.IsCompleted);

        // Turns are free, so another connection is not kept waiting behind the bulk producer.
        var interactive = new TurnShare();
        var newcomer = scheduler.WaitTurnAsync(CancellationToken.None, interactive);
        Assert.True(newcomer.IsCompletedSuccessfully);
        scheduler.PostInTurn(Frame(2), interactive);

        // Once one of the bulk producer's frames is taken, its waiting turn is granted.
        Assert.True(scheduler.TryTake(out var first));
        Assert.Equal(1, first.Message.StreamId);
        await fifth.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(4, bulk.Held);
        Assert.Equal(1, interactive.Held);
        scheduler.ReturnTurn(bulk);
        Assert.Equal(4, scheduler.DropAll());
        Assert.Equal(0, bulk.Held);
        Assert.Equal(0, interactive.Held);
    }

    [Fact]
    public async Task Turns_alternate_between_producers_that_keep_asking()
    {
        var scheduler = new SendScheduler(turns: 1);
        var order = new List<int>();
        async Task ProduceAsync(int id, int frames)
        {
            for (int i = 0; i < frames; i++)
            {
                await scheduler.WaitTurnAsync(CancellationToken.None);
                scheduler.PostInTurn(Frame(id));
            }
        }

        var a = ProduceAsync(1, 4);
        var b = ProduceAsync(2, 4);
        var c = ProduceAsync(3, 4);
        while (order.Count < 12)
        {
            await Eventually.TrueAsync(() => scheduler.Count > 0, "a frame to be posted", 10000);
            Assert.True(scheduler.TryTake(out var frame));
            order.Add(frame.Message.StreamId);
        }

        await Task.WhenAll(a, b, c).WaitAsync(TimeSpan.FromSeconds(10));

        // The first producer got the free turn at once and asked again before the others asked;
        // from then on, while all three have frames, every round of three holds each producer once.
        Assert.Equal(1, order[0]);
        for (int i = 1; i + 3 <= 10; i += 3)
        {
            Assert.Equal(new[] { 1, 2, 3 }, order.Skip(i).Take(3).Order());
        }
    }

    [Fact]
    public async Task A_producer_with_nothing_queued_gets_the_next_turn_and_its_frame_goes_ahead_of_the_bulk_frames()
    {
        var scheduler = new SendScheduler(turns: 2, turnsPerProducer: 4);
        var bulk = new TurnShare();
        var order = new List<int>();
        void Take()
        {
            Assert.True(scheduler.TryTake(out var frame));
            order.Add(frame.Message.StreamId);
        }

        // A bulk producer keeps both turns busy and asks for more.
        for (int i = 0; i < 2; i++)
        {
            await scheduler.WaitTurnAsync(CancellationToken.None, bulk);
            scheduler.PostInTurn(Frame(1), bulk);
        }

        var bulkAgain = scheduler.WaitTurnAsync(CancellationToken.None, bulk);
        Take();
        await bulkAgain.WaitAsync(TimeSpan.FromSeconds(10));
        scheduler.PostInTurn(Frame(1), bulk);
        bulkAgain = scheduler.WaitTurnAsync(CancellationToken.None, bulk);

        // An interactive producer asks last, holding nothing: the turn that comes free is its own.
        var interactive = new TurnShare();
        var keystroke = scheduler.WaitTurnAsync(CancellationToken.None, interactive);
        Assert.False(keystroke.IsCompleted);
        Take();
        Assert.True(keystroke.IsCompletedSuccessfully);
        Assert.False(bulkAgain.IsCompleted);

        // Its frame is sent before the bulk frame queued earlier; then the bulk producer goes on.
        scheduler.PostInTurn(Frame(2), interactive);
        Take();
        Take();
        await bulkAgain.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(new[] { 1, 1, 2, 1 }, order);
        Assert.Equal(1, bulk.Held);
        Assert.Equal(0, interactive.Held);
    }

    [Fact]
    public async Task A_frame_that_goes_ahead_still_follows_the_control_messages_posted_before_it()
    {
        var scheduler = new SendScheduler(turns: 4, turnsPerProducer: 4);
        var bulk = new TurnShare();
        await scheduler.WaitTurnAsync(CancellationToken.None, bulk);
        scheduler.PostInTurn(Frame(1), bulk);

        // A new connection: its start is queued behind bulk data, then its first DATA comes in a sparse turn.
        Assert.True(scheduler.TryPost(new OutgoingFrame(Messages.ConnectionStart(7, "S", 9))));
        await scheduler.WaitTurnAsync(CancellationToken.None, bulk);
        scheduler.PostInTurn(Frame(2), bulk);
        var fresh = new TurnShare();
        await scheduler.WaitTurnAsync(CancellationToken.None, fresh);
        scheduler.PostInTurn(Frame(7), fresh);

        var order = new List<(Message.Types.Type Type, int StreamId)>();
        while (scheduler.TryTake(out var frame))
        {
            order.Add((frame.Message.Type, frame.Message.StreamId));
        }

        Assert.Equal(new[]
        {
            (Message.Types.Type.Data, 1),
            (Message.Types.Type.ConnectionStart, 7),
            (Message.Types.Type.Data, 7),
            (Message.Types.Type.Data, 2),
        }, order);
        Assert.Equal(0, bulk.Held);
        Assert.Equal(0, fresh.Held);
    }

    [Fact]
    public async Task Control_frames_never_wait_for_a_turn_and_keep_their_place_in_the_order()
    {
        var scheduler = new SendScheduler(turns: 1);
        await scheduler.WaitTurnAsync(CancellationToken.None);
        scheduler.PostInTurn(Frame(1));
        Assert.True(scheduler.TryPost(new OutgoingFrame(Messages.StreamReset(2, "S"))));
        Assert.True(scheduler.TryTake(out var first));
        Assert.True(scheduler.TryTake(out var second));
        Assert.Equal(Message.Types.Type.Data, first.Message.Type);
        Assert.Equal(Message.Types.Type.StreamReset, second.Message.Type);
    }

    [Fact]
    public async Task Closing_fails_the_producers_waiting_for_a_turn()
    {
        var scheduler = new SendScheduler(turns: 1);
        await scheduler.WaitTurnAsync(CancellationToken.None);
        var waiting = scheduler.WaitTurnAsync(CancellationToken.None);
        scheduler.Close();
        await Assert.ThrowsAsync<ChannelClosedException>(() => waiting.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Throws<ChannelClosedException>(() => scheduler.PostInTurn(Frame(1)));
    }

    [Fact]
    public async Task A_cancelled_wait_gives_its_turn_to_the_next_producer()
    {
        var scheduler = new SendScheduler(turns: 1);
        await scheduler.WaitTurnAsync(CancellationToken.None);
        using var cancel = new CancellationTokenSource();
        var cancelled = scheduler.WaitTurnAsync(cancel.Token);
        var next = scheduler.WaitTurnAsync(CancellationToken.None);
        cancel.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);
        scheduler.ReturnTurn();
        await next.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task A_data_frame_wakes_an_idle_send_loop_on_the_producers_thread()
    {
        var scheduler = new SendScheduler(turns: 4);
        var takenOn = new List<(int Thread, int StreamId)>();
        var loop = SendLoop(scheduler, takenOn);
        Assert.False(loop.IsCompleted);

        // A producer runs where the engine's do, on a thread with no synchronization context.
        var (producer, takenWhenPosted, queued) = await Task.Run(async () =>
        {
            await scheduler.WaitTurnAsync(CancellationToken.None);
            scheduler.PostInTurn(Frame(7));
            lock (takenOn)
            {
                return (Environment.CurrentManagedThreadId, takenOn.ToList(), scheduler.Count);
            }
        });

        // Taken before PostInTurn returned, on the producer's thread: no thread hand-over.
        Assert.Equal(new[] { (producer, 7) }, takenWhenPosted);
        Assert.Equal(0, queued);
        scheduler.Close();
        await loop.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task A_control_frame_wakes_an_idle_send_loop_off_the_callers_thread()
    {
        var scheduler = new SendScheduler(turns: 4);
        var takenOn = new List<(int Thread, int StreamId)>();
        var loop = SendLoop(scheduler, takenOn);
        int takenWhilePosting = await Task.Run(() =>
        {
            // The caller may hold a lock of its own while it posts (here the one the loop records
            // under): the loop must not run inside it, so nothing is taken before the lock is left.
            lock (takenOn)
            {
                Assert.True(scheduler.TryPost(new OutgoingFrame(Messages.StreamReset(9, "S"))));
                return takenOn.Count;
            }
        });

        scheduler.Close();
        await loop.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(0, takenWhilePosting);
        Assert.Equal(9, Assert.Single(takenOn).StreamId);
    }

    /// <summary>A send loop as <see cref="TunnelLink"/> runs it, recording where each frame was taken.</summary>
    private static async Task SendLoop(SendScheduler scheduler, List<(int Thread, int StreamId)> takenOn)
    {
        while (await scheduler.WaitToTakeAsync(CancellationToken.None).ConfigureAwait(false))
        {
            while (scheduler.TryTake(out var frame))
            {
                lock (takenOn)
                {
                    takenOn.Add((Environment.CurrentManagedThreadId, frame.Message.StreamId));
                }

                frame.Dispose();
            }
        }
    }

    private static OutgoingFrame Frame(int streamId) => new(Messages.Data(streamId, "S", 1, Google.Protobuf.ByteString.CopyFromUtf8("x")));
}
