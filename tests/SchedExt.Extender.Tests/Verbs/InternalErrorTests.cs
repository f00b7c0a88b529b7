using k8s.Models;
using Microsoft.Extensions.DependencyInjection;
using SchedExt.Extender.State;
using SchedExt.Testing;

namespace SchedExt.Extender.Tests.Verbs;

/// <summary>A defect inside a verb (not bad input) is answered 500 with its message, counted, and changes nothing.</summary>
public sealed class InternalErrorTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Filter_NodeReaderThrows_Answers500WithTheMessageAndCountsIt(bool asCancellation)
    {
        // A cancellation nobody asked for (e.g. a client's own timeout inside a verb) is a failure like any other.
        using var factory = new ExtenderFactory(
            GoldenCluster.Objects(),
            services: s => s.AddSingleton<INodeInfoReader>(new ThrowingReader(asCancellation)));
        var before = factory.State.Current;
        var request = File.ReadAllText(TestData.PathOf("extender", "golden", "filter-nodes-mode", "request.json"));

        var (status, body) = await factory.PostAsync("filter", request);

        Assert.Equal(500, status);
        Assert.Equal("internal error: node reader broke on req-v100-metal\n", body);
        Assert.Same(before, factory.State.Current);
        using var client = factory.CreateClient();
        var metrics = await client.GetStringAsync(new Uri("/metrics", UriKind.Relative));
        Assert.Contains("schedext_extender_requests_total{verb=\"filter\",code=\"500\"} 1", metrics, StringComparison.Ordinal);

        // The next request is served as usual (the pooled scratch went back clean).
        var names = """{"Pod":{"metadata":{"name":"cpu","namespace":"n","uid":"u"},"spec":{"containers":[{"name":"c"}]}},"NodeNames":["dgx-free"]}""";
        var (next, reply) = await factory.PostAsync("filter", names);
        Assert.Equal(200, next);
        Assert.Contains("\"NodeNames\":[\"dgx-free\"]", reply, StringComparison.Ordinal);
    }

    private sealed class ThrowingReader(bool asCancellation) : INodeInfoReader
    {
        public NodeInfo? Read(V1Node node)
        {
            var message = "node reader broke on " + node.Metadata.Name;
            throw asCancellation ? new TaskCanceledException(message) : new InvalidOperationException(message);
        }
    }
}
