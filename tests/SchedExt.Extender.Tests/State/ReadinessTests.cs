using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using SchedExt.Extender.Sources;
using SchedExt.Extender.State;

namespace SchedExt.Extender.Tests.State;

/// <summary>Readiness against the API: each of the two watches must have been heard from within StaleAfter.</summary>
public sealed class ReadinessTests
{
    [Theory]
    [InlineData(true, "pods")]
    [InlineData(false, "nodes")]
    public void Problem_OneKindSilentPastStaleAfter_NamesThatKind(bool nodesAnswer, string silent)
    {
        var answering = nodesAnswer ? ContactStream.Nodes : ContactStream.Pods;
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var kit = new SourceKit(time: time);
        kit.State.ReplaceAll([kit.DgxNode("n1")], []);
        var readiness = new Readiness(kit.State, new ClusterSourceInfo(ClusterSourceKind.Kubernetes, "the API server"), new FixedOptions(kit.Options), time);
        Assert.Null(readiness.Problem());

        time.Advance(TimeSpan.FromMinutes(2));
        kit.State.Touch(answering);
        time.Advance(TimeSpan.FromMinutes(2));

        // 4 minutes since one kind was heard from, 2 since the other: only the silent one is past the 3-minute default.
        Assert.Equal($"not ready: no word from the API server about {silent} for 240s (limit 180s)", readiness.Problem());
        kit.State.Touch(answering == ContactStream.Nodes ? ContactStream.Pods : ContactStream.Nodes);
        Assert.Null(readiness.Problem());
    }

    private sealed class FixedOptions(ExtenderOptions value) : IOptionsMonitor<ExtenderOptions>
    {
        public ExtenderOptions CurrentValue => value;

        public ExtenderOptions Get(string? name) => value;

        public IDisposable? OnChange(Action<ExtenderOptions, string?> listener) => null;
    }
}
