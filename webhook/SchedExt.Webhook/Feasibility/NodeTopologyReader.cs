using SchedExt.Topology.Model;

namespace SchedExt.Webhook.Feasibility;

/// <summary>Reads the <c>schedext.io/topology</c> node annotation.</summary>
internal static class NodeTopologyReader
{
    // Interim until SchedExt.Topology.Annotation.TopologyAnnotation lands on main: an annotation is not yet understood.
    public static NodeTopology Parse(string annotation) =>
        throw new FormatException($"topology annotation parser not available ({annotation.Length} chars)");
}
