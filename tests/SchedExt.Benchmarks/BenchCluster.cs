using SchedExt.Topology.Model;
using SchedExt.Topology.Requests;
using SchedExt.Topology.Shapes;

namespace SchedExt.Benchmarks;

/// <summary>One generated GPU node: name, hardware, machine kind, rack/block and the GPUs held by pods.</summary>
internal sealed record BenchNode(string Name, NodeTopology Topology, MachineKind Machine, string Rack, string Block, ulong UsedGpus);

/// <summary>
/// A seeded synthetic fleet shared by the placement and HTTP benchmarks, so both measure the same cluster: four real
/// shapes (HGX H200 NVSwitch, DGX-1V cube-mesh, 8× PCIe on two sockets, 4× V100 in NVLink pairs) drawn at random, and
/// random partial occupancy (a quarter of the nodes idle, a tenth full, the rest with each GPU busy at 40 %).
/// </summary>
internal static class BenchCluster
{
    /// <summary>Seed of shapes and occupancy; every run measures the same cluster.</summary>
    public const int Seed = 20261129;

    /// <summary>The four node shapes of the fleet, with the name prefix of their nodes.</summary>
    public static IReadOnlyList<(string Prefix, NodeTopology Topology)> Shapes { get; } =
    [
        ("hgx-h200", ReferenceTopologies.HgxH200),
        ("dgx1-v100", ReferenceTopologies.Dgx1V100),
        ("pcie8-l40s", ReferenceTopologies.Pcie8TwoSocket),
        ("v100-pairs", ReferenceTopologies.V100Pairs4),
    ];

    /// <summary>Generates <paramref name="count"/> nodes; the first n of a larger fleet equal a fleet of n.</summary>
    public static IReadOnlyList<BenchNode> Generate(int count)
    {
        var random = new Random(Seed);
        var nodes = new List<BenchNode>(count);
        for (var i = 0; i < count; i++)
        {
            var (prefix, topology) = Shapes[random.Next(Shapes.Count)];
            var all = topology.GpuCount == 64 ? ulong.MaxValue : (1UL << topology.GpuCount) - 1;
            var roll = random.NextDouble();
            ulong used = 0;
            if (roll < 0.10)
            {
                used = all;
            }
            else if (roll >= 0.35)
            {
                for (var g = 0; g < topology.GpuCount; g++)
                {
                    if (random.NextDouble() < 0.4)
                    {
                        used |= 1UL << g;
                    }
                }
            }

            var machine = random.Next(3) == 0 ? MachineKind.Vm : MachineKind.BareMetal;
            var rack = i / 40;
            nodes.Add(new BenchNode($"{prefix}-{i:D5}", topology, machine, $"rack-{rack:D3}", $"block-{rack / 8:D2}", used));
        }

        return nodes;
    }
}
