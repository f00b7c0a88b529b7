using Microsoft.Extensions.DependencyInjection;
using SchedExt.Testing;
using SchedExt.Webhook.Policy;

namespace SchedExt.Webhook.Tests;

/// <summary>The node facts follow the policy's devices.resourceName, also when only the policy changes.</summary>
public sealed class ResourceNameChangeTests : IDisposable
{
    private static readonly string Policy = TestData.ReadText("webhook", "policy.yaml");
    private readonly string _snapshot = Path.Combine(Path.GetTempPath(), $"schedext-rn-{Guid.NewGuid():N}.yaml");
    private readonly WebhookHost _host;

    public ResourceNameChangeTests()
    {
        // One node whose GPUs are offered under another resource name, with no topology annotation.
        File.WriteAllText(_snapshot, "apiVersion: v1\nkind: Node\nmetadata:\n  name: other-gpus\nstatus:\n  allocatable:\n    example.com/gpu: \"8\"\n");
        _host = new WebhookHost(Policy, _snapshot);
    }

    public void Dispose()
    {
        _host.Dispose();
        File.Delete(_snapshot);
    }

    [Fact]
    public void PolicyResourceNameCorrected_SameSnapshotReadAgainWithIt()
    {
        var snapshot = _host.Services.GetRequiredService<SchedExt.Webhook.Feasibility.SnapshotFileSource>();
        var view = _host.Services.GetRequiredService<SchedExt.Webhook.Feasibility.ClusterView>();
        _ = snapshot.Reload();
        Assert.Equal(0, view.Current.NodeCount);

        File.WriteAllText(_host.PolicyFile, Policy.Replace("resourceName: nvidia.com/gpu", "resourceName: example.com/gpu", StringComparison.Ordinal));
        Assert.Equal(ReloadOutcome.Loaded, _host.Services.GetRequiredService<PolicyStore>().Reload());

        Assert.True(snapshot.Reload(), "the unchanged file is read again for the new resource name");
        Assert.Equal(1, view.Current.NodeCount);
    }
}
