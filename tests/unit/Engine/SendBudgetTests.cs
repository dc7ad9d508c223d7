using AwsTunnel.Engine.Tunnel;

namespace AwsTunnel.Tests.Engine;

/// <summary>The tunnel-wide send budget: bounded, and granted in the order connections asked.</summary>
public class SendBudgetTests
{
    [Fact]
    public async Task Slots_beyond_the_budget_wait_until_one_is_released()
    {
        var budget = new SendBudget();
        for (int i = 0; i < SendBudget.Frames; i++)
        {
            await budget.WaitAsync(CancellationToken.None);
        }

        var waiting = budget.WaitAsync(CancellationToken.None);
        await Task.Delay(50);
        Assert.False(waiting.IsCompleted);

        budget.Release();
        await waiting.WaitAsync(TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task Waiting_connections_are_served_first_come_first_served()
    {
        var budget = new SendBudget();
        for (int i = 0; i < SendBudget.Frames; i++)
        {
            await budget.WaitAsync(CancellationToken.None);
        }

        var order = new List<string>();
        var bulk = budget.WaitAsync(CancellationToken.None).ContinueWith(_ => { lock (order) { order.Add("bulk"); } }, TaskContinuationOptions.ExecuteSynchronously);
        var interactive = budget.WaitAsync(CancellationToken.None).ContinueWith(_ => { lock (order) { order.Add("interactive"); } }, TaskContinuationOptions.ExecuteSynchronously);

        budget.Release();
        await bulk.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.False(interactive.IsCompleted);

        budget.Release();
        await interactive.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(new[] { "bulk", "interactive" }, order);
    }

    [Fact]
    public async Task A_cancelled_wait_takes_no_slot()
    {
        var budget = new SendBudget();
        for (int i = 0; i < SendBudget.Frames; i++)
        {
            await budget.WaitAsync(CancellationToken.None);
        }

        using var cancel = new CancellationTokenSource();
        var abandoned = budget.WaitAsync(cancel.Token);
        var next = budget.WaitAsync(CancellationToken.None);
        cancel.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => abandoned);

        budget.Release();
        await next.WaitAsync(TimeSpan.FromSeconds(5));
    }
}
