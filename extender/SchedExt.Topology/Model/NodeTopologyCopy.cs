namespace SchedExt.Topology.Model;

/// <summary>Rebuilds a topology with some device lists replaced, through <see cref="NodeTopology.Create"/> so the result is validated again.</summary>
internal static class NodeTopologyCopy
{
    public static NodeTopology With(this NodeTopology topology, IReadOnlyList<GpuDevice>? gpus = null, IReadOnlyList<NicDevice>? nics = null, IReadOnlyList<NumaNodeInfo>? numaNodes = null)
    {
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

        return NodeTopology.Create(gpus ?? topology.Gpus, nics ?? topology.Nics, numaNodes ?? topology.NumaNodes, gpuLinks, nicLinks);
    }
}
