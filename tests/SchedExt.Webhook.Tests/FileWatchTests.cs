using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using SchedExt.Testing;
using SchedExt.Webhook.Policy;

namespace SchedExt.Webhook.Tests;

/// <summary>The timer that re-reads the policy file: a changed file takes effect at the next tick, without a direct reload.</summary>
public sealed class FileWatchTests
{
    [Fact]
    public async Task Timer_PolicyFileChanged_LoadedAtTheNextTick()
    {
        var time = new FakeTimeProvider();
        var policy = TestData.ReadText("webhook", "policy.yaml");
        using var host = new WebhookHost(policy, services: s => s.AddSingleton<TimeProvider>(time));
        _ = host.Client;
        var store = host.Services.GetRequiredService<PolicyStore>();
        Assert.Equal("schedext-scheduler", store.Current!.SchedulerName);

        File.WriteAllText(host.PolicyFile, policy.Replace("schedulerName: schedext-scheduler", "schedulerName: other-scheduler", StringComparison.Ordinal));
        Assert.Equal("schedext-scheduler", store.Current!.SchedulerName);

        // WebhookHost sets the interval to an hour; nothing but the timer reloads here.
        for (var i = 0; i < 200 && store.Current!.SchedulerName != "other-scheduler"; i++)
        {
            time.Advance(TimeSpan.FromHours(1));
            await Task.Delay(25);
        }

        Assert.Equal("other-scheduler", store.Current!.SchedulerName);
    }
}
