using System.Text;
using System.Text.Json;
using k8s;
using k8s.Models;
using SchedExt.Extender.Binding;
using SchedExt.Extender.Protocol;

namespace SchedExt.Extender.Tests.Protocol;

/// <summary>
/// The two places the extender counts a pod's GPUs — the verbs' reader of the request JSON and the binder's read of the
/// pod from the API — agree with Kubernetes, sidecar init containers (restartPolicy: Always) included.
/// </summary>
public sealed class PodGpuCountTests
{
    [Theory]
    [InlineData("""{"containers":[{"name":"a","resources":{"limits":{"nvidia.com/gpu":"4"}}},{"name":"b","resources":{"requests":{"nvidia.com/gpu":"8"}}}]}""", 12)]
    [InlineData("""{"containers":[{"name":"a","resources":{"limits":{"nvidia.com/gpu":"1"}}}],"initContainers":[{"name":"i","resources":{"limits":{"nvidia.com/gpu":"8"}}}]}""", 8)]
    [InlineData("""{"containers":[{"name":"a","resources":{"limits":{"nvidia.com/gpu":"2"}}}],"initContainers":[{"name":"s","restartPolicy":"Always","resources":{"limits":{"nvidia.com/gpu":"1"}}}]}""", 3)]
    [InlineData("""{"containers":[{"name":"a","resources":{"limits":{"nvidia.com/gpu":"2"}}}],"initContainers":[{"name":"s","resources":{"limits":{"nvidia.com/gpu":"1"}},"restartPolicy":"Always"},{"name":"i","resources":{"limits":{"nvidia.com/gpu":"4"}}}]}""", 5)]
    [InlineData("""{"containers":[{"name":"a","resources":{"limits":{"nvidia.com/gpu":"2"}}}],"initContainers":[{"name":"i","resources":{"limits":{"nvidia.com/gpu":"4"}}},{"name":"s","restartPolicy":"Always","resources":{"limits":{"nvidia.com/gpu":"1"}}}]}""", 4)]
    public void GpuCount_RequestReaderAndApiReader_AgreeWithKubernetes(string spec, long expected)
    {
        var pod = $$"""{"metadata":{"name":"p","namespace":"ns","uid":"u"},"spec":{{spec}}}""";

        var reader = new Utf8JsonReader(Encoding.UTF8.GetBytes(pod));
        reader.Read();
        var facts = new PodFacts();
        facts.Read(ref reader, "nvidia.com/gpu"u8, "Pod");

        Assert.Equal(expected, facts.GpuCount);
        Assert.Equal(expected, KubernetesClusterApi.GpuCount(KubernetesJson.Deserialize<V1Pod>(pod).Spec, "nvidia.com/gpu"));
    }
}
