using SchedExt.Topology.Model;

namespace SchedExt.Extender.Sources;

/// <summary>Rebuilds a described topology with changed GPU records (product from GPU Feature Discovery, per-node UUIDs) and the same wiring.</summary>
internal static class TopologyCopy
{
    public static NodeTopology WithGpus(NodeTopology topology, Func<GpuDevice, GpuDevice> change)
    {
        ArgumentNullException.ThrowIfNull(topology);
        ArgumentNullException.ThrowIfNull(change);
        var n = topology.GpuCount;
        var m = topology.Nics.Count;
        var gpuLinks = new Link[n * n];
        var nicLinks = new Link[n * m];
        for (var i = 0; i < n; i++)
        {
            for (var j = 0; j < n; j++)
            {
                gpuLinks[(i * n) + j] = topology.GpuLink(i, j);
            }

            for (var j = 0; j < m; j++)
            {
                nicLinks[(i * m) + j] = topology.NicLink(i, j);
            }
        }

        return NodeTopology.Create([.. topology.Gpus.Select(change)], topology.Nics, topology.NumaNodes, gpuLinks, nicLinks);
    }
}
