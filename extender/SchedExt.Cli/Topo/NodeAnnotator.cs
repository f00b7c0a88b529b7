using System.Net;
using System.Text.Json;
using k8s;
using k8s.Autorest;
using k8s.Exceptions;
using k8s.Models;
using SchedExt.Topology.Annotation;
using SchedExt.Topology.Model;
using SchedExt.Topology.Requests;

namespace SchedExt.Cli.Topo;

/// <summary>Whether applying changed the node.</summary>
internal enum AnnotationChange
{
    Unchanged,
    Updated,
}

/// <summary>Writes the topology annotation onto a Node through the API, only when the hardware it describes changed.</summary>
internal static class NodeAnnotator
{
    /// <summary>A client from <paramref name="kubeconfig"/>, else KUBECONFIG, ~/.kube/config or the pod's service account.</summary>
    public static Kubernetes Connect(string? kubeconfig)
    {
        try
        {
            var config = kubeconfig is null
                ? KubernetesClientConfiguration.BuildDefaultConfig()
                : KubernetesClientConfiguration.BuildConfigFromConfigFile(kubeconfig);
            return new Kubernetes(config);
        }
        catch (Exception e) when (e is KubeConfigException or IOException or UnauthorizedAccessException)
        {
            throw new CliException(ExitCodes.ClusterError, $"no cluster credentials: {e.Message} (use --kubeconfig, KUBECONFIG, or run in a pod)", e);
        }
    }

    /// <summary>Reads the node and patches <c>schedext.io/topology</c> when its value describes different hardware (or is missing or unreadable).</summary>
    public static async Task<AnnotationChange> ApplyAsync(IKubernetes client, string node, NodeTopology topology, string annotation, CancellationToken cancellationToken)
    {
        var current = await CallAsync(node, "read", () => client.CoreV1.ReadNodeAsync(node, cancellationToken: cancellationToken), cancellationToken).ConfigureAwait(false);
        if (current.Metadata.Annotations is { } annotations
            && annotations.TryGetValue(SchedExtKeys.Topology, out var existing)
            && DescribesSame(existing, topology))
        {
            return AnnotationChange.Unchanged;
        }

        // A JSON merge patch touches this one key and leaves every other annotation as it is.
        var body = JsonSerializer.Serialize(new { metadata = new { annotations = new Dictionary<string, string> { [SchedExtKeys.Topology] = annotation } } });
        await CallAsync(node, "patch", () => client.CoreV1.PatchNodeAsync(new V1Patch(body, V1Patch.PatchType.MergePatch), node, fieldManager: "schedext-agent", cancellationToken: cancellationToken), cancellationToken).ConfigureAwait(false);
        return AnnotationChange.Updated;
    }

    private static bool DescribesSame(string existing, NodeTopology topology)
    {
        try
        {
            return TopologyAnnotation.Parse(existing).StructurallyEquals(topology);
        }
        catch (TopologyFormatException)
        {
            // A hand-edited or older annotation that no longer reads is replaced.
            return false;
        }
    }

    private static async Task<V1Node> CallAsync(string node, string verb, Func<Task<V1Node>> call, CancellationToken cancellationToken)
    {
        try
        {
            return await call().ConfigureAwait(false);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
        {
            throw new CliException(ExitCodes.NodeNotFound, $"node {node} not found", e);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
        {
            throw new CliException(ExitCodes.ClusterError, $"cannot {verb} node {node}: {(int)e.Response.StatusCode} {e.Response.StatusCode} (the agent needs nodes get and patch)", e);
        }
        catch (HttpOperationException e)
        {
            throw new CliException(ExitCodes.ClusterError, $"cannot {verb} node {node}: API server answered {(int)e.Response.StatusCode} {e.Response.StatusCode}", e);
        }
        catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new CliException(ExitCodes.ClusterError, $"cannot {verb} node {node}: the API server did not answer in time", e);
        }
        catch (HttpRequestException e)
        {
            throw new CliException(ExitCodes.ClusterError, $"cannot {verb} node {node}: API server unreachable: {e.Message}", e);
        }
    }
}
