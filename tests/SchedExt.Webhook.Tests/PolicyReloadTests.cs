using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using SchedExt.Testing;
using SchedExt.Topology.Requests;
using SchedExt.Webhook.Policy;

namespace SchedExt.Webhook.Tests;

/// <summary>The policy file changes under a running webhook: a good file takes effect, a bad one is refused and the last good one stays.</summary>
public sealed class PolicyReloadTests : IDisposable
{
    private static readonly string SharedPolicy = TestData.ReadText("webhook", "policy.yaml");
    private readonly WebhookHost _host = WebhookHost.Default();

    private PolicyStore Store => _host.Services.GetRequiredService<PolicyStore>();

    public void Dispose() => _host.Dispose();

    [Fact]
    public void Reload_SameContent_IsUnchanged()
    {
        Assert.Equal(ReloadOutcome.Unchanged, Store.Reload());
    }

    [Fact]
    public async Task Reload_GoodNewFile_TakesEffectWithoutRestart()
    {
        var before = Store.Current!.Version;
        File.WriteAllText(_host.PolicyFile, SharedPolicy.Replace("mode: enforce", "mode: shadow", StringComparison.Ordinal));

        Assert.Equal(ReloadOutcome.Loaded, Store.Reload());

        Assert.NotEqual(before, Store.Current!.Version);
        Assert.Equal(PolicyMode.Shadow, Store.Current.Mode);
        var review = await _host.PostAsync(Reviews.OptedIn((SchedExtKeys.Gpus, "16")).ToJsonString());
        Assert.True(review.Allowed);
        Assert.Null(review.PatchJson);
        Assert.Equal("shadow", review.Response["auditAnnotations"]!["mode"]!.GetValue<string>());
    }

    [Fact]
    public void Reload_FileWithUtf8ByteOrderMark_Loads()
    {
        // Saved by an editor that writes a BOM: the same policy, not an unknown key '\uFEFFmode'.
        File.WriteAllText(_host.PolicyFile, SharedPolicy.Replace("mode: enforce", "mode: shadow", StringComparison.Ordinal), new System.Text.UTF8Encoding(encoderShouldEmitUTF8Identifier: true));

        Assert.Equal(ReloadOutcome.Loaded, Store.Reload());
        Assert.Equal(PolicyMode.Shadow, Store.Current!.Mode);
    }

    [Theory]
    [InlineData("not YAML", "mode: [")]
    [InlineData("invalid value", "mode: loud")]
    [InlineData("profile without count", "profiles:\n  x: {rdma: required}")]
    public async Task Reload_BadNewFile_IsRejectedAndLastGoodPolicyStays(string name, string yaml)
    {
        var before = Store.Current!;
        File.WriteAllText(_host.PolicyFile, yaml);

        Assert.True(Store.Reload() == ReloadOutcome.Rejected, name);

        Assert.Same(before, Store.Current);
        var review = await _host.PostAsync(Reviews.OptedIn((SchedExtKeys.Gpus, "16")).ToJsonString());
        Assert.False(review.Allowed);
        var metrics = await _host.Client.GetStringAsync(new Uri("/metrics", UriKind.Relative));
        Assert.Contains("schedext_webhook_policy_reloads_total{result=\"failure\"} 1", metrics, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Reload_BadThenGood_GoodOneWins()
    {
        File.WriteAllText(_host.PolicyFile, "mode: loud");
        Store.Reload();
        File.WriteAllText(_host.PolicyFile, SharedPolicy.Replace("mode: enforce", "mode: warn", StringComparison.Ordinal));

        Assert.Equal(ReloadOutcome.Loaded, Store.Reload());

        var review = await _host.PostAsync(Reviews.OptedIn((SchedExtKeys.Gpus, "16")).ToJsonString());
        Assert.True(review.Allowed);
        Assert.NotNull(review.PatchJson);
        Assert.Contains("the largest request these constraints allow is 8 GPU(s)", review.Response["warnings"]![0]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_PolicyFileMissing_AllowsEverythingUntouchedAndIsNotReady()
    {
        using var host = new WebhookHost(string.Empty, settings: new Dictionary<string, string> { ["SchedExt:Webhook:PolicyFile"] = "/nonexistent/policy.yaml" });

        var review = await host.PostAsync(Reviews.OptedIn((SchedExtKeys.Gpus, "2")).ToJsonString());

        Assert.Null(host.Services.GetRequiredService<PolicyStore>().Current);
        Assert.True(review.Allowed);
        Assert.Null(review.PatchJson);
        using var ready = await host.Client.GetAsync(new Uri("/readyz", UriKind.Relative));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        Assert.Contains("no valid policy", await ready.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public void Reload_FileDeletedAfterStart_KeepsPolicyInForce()
    {
        var before = Store.Current;
        File.Delete(_host.PolicyFile);

        Assert.Equal(ReloadOutcome.Rejected, Store.Reload());
        Assert.Same(before, Store.Current);
    }

    [Fact]
    public async Task Reload_FileMissingOnEveryCheck_ReportedOnceUntilItChanges()
    {
        var logs = new LogCapture();
        using var host = new WebhookHost(SharedPolicy, services: s => s.AddSingleton<ILoggerProvider>(logs));
        var store = host.Services.GetRequiredService<PolicyStore>();
        File.Delete(host.PolicyFile);

        // The file checker asks every few seconds; a file that stays missing is one failure, not one per check.
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(ReloadOutcome.Rejected, store.Reload());
        }

        Assert.Single(logs.Messages(103));
        Assert.Contains("schedext_webhook_policy_reloads_total{result=\"failure\"} 1\n", await Metrics(host), StringComparison.Ordinal);

        // Back, then missing again: a new failure, reported once more.
        File.WriteAllText(host.PolicyFile, SharedPolicy);
        Assert.Equal(ReloadOutcome.Loaded, store.Reload());
        File.Delete(host.PolicyFile);
        store.Reload();
        store.Reload();
        Assert.Equal(2, logs.Messages(103).Count);
        Assert.Contains("schedext_webhook_policy_reloads_total{result=\"failure\"} 2\n", await Metrics(host), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_PolicyFileMissing_ReportedOnceNotOnEveryCheck()
    {
        var logs = new LogCapture();
        using var host = new WebhookHost(string.Empty, settings: new Dictionary<string, string> { ["SchedExt:Webhook:PolicyFile"] = "/nonexistent/policy.yaml" }, services: s => s.AddSingleton<ILoggerProvider>(logs));
        var store = host.Services.GetRequiredService<PolicyStore>();

        store.Reload();
        store.Reload();

        Assert.Single(logs.Messages(103));
        Assert.Contains("schedext_webhook_policy_reloads_total{result=\"failure\"} 1\n", await Metrics(host), StringComparison.Ordinal);
    }

    [Fact]
    public void Reload_EmptyFileAfterMissingOne_IsReadAsThePolicy()
    {
        // An empty policy is valid (all defaults); it must not be mistaken for "still missing".
        File.Delete(_host.PolicyFile);
        Store.Reload();
        File.WriteAllText(_host.PolicyFile, string.Empty);

        Assert.Equal(ReloadOutcome.Loaded, Store.Reload());
        Assert.Empty(Store.Current!.Profiles);
    }

    private static Task<string> Metrics(WebhookHost host) => host.Client.GetStringAsync(new Uri("/metrics", UriKind.Relative));
}
