using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using SchedExt.Testing;
using SchedExt.Webhook.Hosting;
using SchedExt.Webhook.Policy;

namespace SchedExt.Webhook.Tests;

/// <summary>The timer that re-reads the watched files: a changed file takes effect at the next tick, without a direct reload.</summary>
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

    [Fact]
    public async Task Timer_AReloadThrowsUnexpectedly_LoggedAndTheOtherFilesStillWatched()
    {
        // Every reload handles the failures it expects; this one throws what none expects, checked first at every tick.
        // Uncaught, it ended the timer loop (the host stops when a background service fails) or at least skipped the
        // files after it.
        var time = new FakeTimeProvider();
        var logs = new LogCapture();
        var broken = new BrokenFile();
        var policy = TestData.ReadText("webhook", "policy.yaml");
        using var host = new WebhookHost(policy, services: s =>
        {
            s.AddSingleton<TimeProvider>(time);
            s.AddSingleton<ILoggerProvider>(logs);
            s.Insert(0, ServiceDescriptor.Singleton<IWatchedFile>(broken));
        });
        _ = host.Client;
        var store = host.Services.GetRequiredService<PolicyStore>();

        for (var tick = 0; tick < 3; tick++)
        {
            File.WriteAllText(host.PolicyFile, policy.Replace("schedulerName: schedext-scheduler", $"schedulerName: scheduler-{tick}", StringComparison.Ordinal));
            var calls = broken.Calls;
            for (var i = 0; i < 200 && store.Current!.SchedulerName != $"scheduler-{tick}"; i++)
            {
                time.Advance(TimeSpan.FromHours(1));
                await Task.Delay(25);
            }

            Assert.True(store.Current!.SchedulerName == $"scheduler-{tick}", $"tick {tick}: the policy was not re-read after the broken file threw");
            Assert.True(broken.Calls > calls, $"tick {tick}: the broken file was not checked");
        }

        Assert.Contains(logs.Messages(404), m => m.Contains("Re-checking the broken test file failed: disk on fire", StringComparison.Ordinal));
        using var health = await host.Client.GetAsync(new Uri("/healthz", UriKind.Relative));
        Assert.Equal(System.Net.HttpStatusCode.OK, health.StatusCode);
    }

    private sealed class BrokenFile : IWatchedFile
    {
        private int _calls;

        public int Calls => Volatile.Read(ref _calls);

        public string FileDescription => "broken test";

        public void ReloadIfChanged()
        {
            Interlocked.Increment(ref _calls);
            throw new InvalidOperationException("disk on fire");
        }
    }
}
