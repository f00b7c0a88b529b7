using System.Collections.ObjectModel;

namespace SchedExt.Topology.Model;

/// <summary>The hardware of one node as SchedExt sees it: GPUs, NICs, NUMA nodes and the link class of every GPU pair and GPU–NIC pair.</summary>
/// <remarks>
/// Immutable and validated on construction: GPU indices are 0..n-1 in order, the GPU matrix is symmetric with
/// <c>X</c> on the diagonal and nowhere else, every NIC link is a real connection class, NUMA ids are known.
/// </remarks>
public sealed class NodeTopology
{
    /// <summary>The largest GPU count a node may have: a GPU set is a <see cref="ulong"/> mask.</summary>
    public const int MaxGpus = 64;

    private readonly byte[] _gpuLinks;
    private readonly byte[] _nicLinks;

    private NodeTopology(GpuDevice[] gpus, NicDevice[] nics, NumaNodeInfo[] numaNodes, byte[] gpuLinks, byte[] nicLinks, bool isKnown)
    {
        Gpus = new ReadOnlyCollection<GpuDevice>(gpus);
        Nics = new ReadOnlyCollection<NicDevice>(nics);
        NumaNodes = new ReadOnlyCollection<NumaNodeInfo>(numaNodes);
        _gpuLinks = gpuLinks;
        _nicLinks = nicLinks;
        IsKnown = isKnown;
    }

    public IReadOnlyList<GpuDevice> Gpus { get; }

    public IReadOnlyList<NicDevice> Nics { get; }

    public IReadOnlyList<NumaNodeInfo> NumaNodes { get; }

    public int GpuCount => Gpus.Count;

    /// <summary>False for the stand-in built by <see cref="Unknown"/>: a node whose GPUs are counted but whose wiring was never described.</summary>
    public bool IsKnown { get; }

    public Link GpuLink(int a, int b) => Link.FromCode(_gpuLinks[(a * GpuCount) + b]);

    public Link NicLink(int gpu, int nic) => Link.FromCode(_nicLinks[(gpu * Nics.Count) + nic]);

    internal ReadOnlySpan<byte> GpuLinkCodes => _gpuLinks;

    internal ReadOnlySpan<byte> NicLinkCodes => _nicLinks;

    /// <summary>
    /// A node with <paramref name="gpuCount"/> GPUs and no topology description: every pair is assumed <c>SYS</c>, no NICs,
    /// NUMA unknown; <paramref name="product"/> and <paramref name="memoryMiB"/> (e.g. from GPU Feature Discovery's labels,
    /// 0 when unknown) still let product globs and memory minimums match.
    /// </summary>
    public static NodeTopology Unknown(int gpuCount, string? product = null, int memoryMiB = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(memoryMiB);
        ArgumentOutOfRangeException.ThrowIfNegative(gpuCount);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(gpuCount, MaxGpus);
        var gpus = new GpuDevice[gpuCount];
        var links = new byte[gpuCount * gpuCount];
        for (var i = 0; i < gpuCount; i++)
        {
            gpus[i] = new GpuDevice(i, Product: product, MemoryMiB: memoryMiB);
            for (var j = 0; j < gpuCount; j++)
            {
                links[(i * gpuCount) + j] = i == j ? Link.Self.Code : Link.Sys.Code;
            }
        }

        return new NodeTopology(gpus, [], [], links, [], isKnown: false);
    }

    /// <summary>Builds and validates a topology. Throws <see cref="TopologyFormatException"/> naming the first bad field.</summary>
    /// <param name="gpus">GPUs, whose <see cref="GpuDevice.Index"/> must be 0..n-1 in order.</param>
    /// <param name="nics">NICs; names unique and non-empty.</param>
    /// <param name="numaNodes">NUMA nodes; ids unique and non-negative. Every non-negative GPU/NIC NUMA id must be listed when this is non-empty.</param>
    /// <param name="gpuLinks">n×n matrix, row-major, symmetric, <c>X</c> exactly on the diagonal.</param>
    /// <param name="nicLinks">n×m matrix, row-major (row = GPU, column = NIC), no <c>X</c>.</param>
    public static NodeTopology Create(IReadOnlyList<GpuDevice> gpus, IReadOnlyList<NicDevice> nics, IReadOnlyList<NumaNodeInfo> numaNodes, IReadOnlyList<Link> gpuLinks, IReadOnlyList<Link> nicLinks)
    {
        ArgumentNullException.ThrowIfNull(gpus);
        ArgumentNullException.ThrowIfNull(nics);
        ArgumentNullException.ThrowIfNull(numaNodes);
        ArgumentNullException.ThrowIfNull(gpuLinks);
        ArgumentNullException.ThrowIfNull(nicLinks);

        var n = gpus.Count;
        if (n > MaxGpus)
        {
            throw new TopologyFormatException("gpus", $"{n} GPUs; at most {MaxGpus} are supported");
        }

        var numaIds = new HashSet<int>();
        for (var i = 0; i < numaNodes.Count; i++)
        {
            var node = numaNodes[i] ?? throw new TopologyFormatException($"numa[{i}]", "null");
            if (node.Id < 0)
            {
                throw new TopologyFormatException($"numa[{i}].id", $"{node.Id} is negative");
            }

            if (!numaIds.Add(node.Id))
            {
                throw new TopologyFormatException($"numa[{i}].id", $"NUMA node {node.Id} is listed twice");
            }
        }

        for (var i = 0; i < n; i++)
        {
            var gpu = gpus[i] ?? throw new TopologyFormatException($"gpus[{i}]", "null");
            if (gpu.Index != i)
            {
                throw new TopologyFormatException($"gpus[{i}].i", $"index {gpu.Index} out of order; GPU indices must be 0..{n - 1} in order");
            }

            if (gpu.MemoryMiB < 0)
            {
                throw new TopologyFormatException($"gpus[{i}].memMiB", $"{gpu.MemoryMiB} is negative");
            }

            CheckNuma(numaIds, gpu.NumaNode, $"gpus[{i}].numa");
        }

        var nicNames = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < nics.Count; i++)
        {
            var nic = nics[i] ?? throw new TopologyFormatException($"nics[{i}]", "null");
            if (string.IsNullOrWhiteSpace(nic.Name))
            {
                throw new TopologyFormatException($"nics[{i}].name", "empty");
            }

            if (!nicNames.Add(nic.Name))
            {
                throw new TopologyFormatException($"nics[{i}].name", $"NIC '{nic.Name}' is listed twice");
            }

            CheckNuma(numaIds, nic.NumaNode, $"nics[{i}].numa");
        }

        if (gpuLinks.Count != n * n)
        {
            throw new TopologyFormatException("gpuLinks", $"{gpuLinks.Count} entries; a {n}×{n} matrix needs {n * n}");
        }

        var g = new byte[n * n];
        for (var i = 0; i < n; i++)
        {
            for (var j = 0; j < n; j++)
            {
                var link = gpuLinks[(i * n) + j];
                if (link.Code == 0)
                {
                    throw new TopologyFormatException(GpuLinkField(i, j), "missing link class");
                }

                if ((i == j) != (link == Link.Self))
                {
                    throw new TopologyFormatException(GpuLinkField(i, j), i == j ? $"diagonal must be X, found {link}" : "X is only allowed on the diagonal");
                }

                if (j < i && gpuLinks[(j * n) + i] != link)
                {
                    throw new TopologyFormatException(GpuLinkField(i, j), $"matrix is not symmetric: GPU{i}→GPU{j} is {link} but GPU{j}→GPU{i} is {gpuLinks[(j * n) + i]}");
                }

                g[(i * n) + j] = link.Code;
            }
        }

        var m = nics.Count;
        if (nicLinks.Count != n * m)
        {
            throw new TopologyFormatException("nicLinks", $"{nicLinks.Count} entries; a {n}×{m} matrix needs {n * m}");
        }

        var nl = new byte[n * m];
        for (var i = 0; i < n; i++)
        {
            for (var j = 0; j < m; j++)
            {
                var link = nicLinks[(i * m) + j];
                if (link.Code == 0 || link == Link.Self)
                {
                    throw new TopologyFormatException($"nicLinks[{i}][{j}]", link.Code == 0 ? "missing link class" : "X is not a GPU–NIC link");
                }

                nl[(i * m) + j] = link.Code;
            }
        }

        return new NodeTopology([.. gpus], [.. nics], [.. numaNodes], g, nl, isKnown: true);

        // PERF: the field name is built only for an error; building it per entry cost 4096 strings on a 64-GPU node.
        static string GpuLinkField(int i, int j) => $"gpuLinks[{i}][{j}]";
    }

    private static void CheckNuma(HashSet<int> numaIds, int numa, string field)
    {
        if (numa < -1)
        {
            throw new TopologyFormatException(field, $"{numa} is not a NUMA node (use -1 for unknown)");
        }

        if (numa >= 0 && numaIds.Count > 0 && !numaIds.Contains(numa))
        {
            throw new TopologyFormatException(field, $"NUMA node {numa} is not listed in numa");
        }
    }

    /// <summary>GPU indices whose NIC link to some NIC is PIX or PXB.</summary>
    public IEnumerable<string> NearNics(int gpu)
    {
        for (var j = 0; j < Nics.Count; j++)
        {
            if (NicLink(gpu, j).IsNearNic)
            {
                yield return Nics[j].Name;
            }
        }
    }

    /// <summary>
    /// The same topology with GPUs that have no product or no memory size given <paramref name="product"/> and
    /// <paramref name="memoryMiB"/> (a node-wide fact such as GPU Feature Discovery's labels; null and 0 give nothing).
    /// Returns this topology when nothing changes.
    /// </summary>
    public NodeTopology WithGpuDefaults(string? product, int memoryMiB)
    {
        var fillProduct = product is not null && Gpus.Any(g => g.Product is null);
        var fillMemory = memoryMiB > 0 && Gpus.Any(g => g.MemoryMiB == 0);
        if (!fillProduct && !fillMemory)
        {
            return this;
        }

        return WithGpus(g => g with
        {
            Product = g.Product ?? product,
            MemoryMiB = g.MemoryMiB == 0 && memoryMiB > 0 ? memoryMiB : g.MemoryMiB,
        });
    }

    /// <summary>The same wiring with every GPU record passed through <paramref name="change"/> (e.g. per-node UUIDs, a product from a label); validated again.</summary>
    public NodeTopology WithGpus(Func<GpuDevice, GpuDevice> change)
    {
        ArgumentNullException.ThrowIfNull(change);
        return this.With(gpus: [.. Gpus.Select(change)]);
    }

    /// <summary>True when both describe the same hardware, UUIDs and names included.</summary>
    public bool StructurallyEquals(NodeTopology other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return IsKnown == other.IsKnown
            && Gpus.SequenceEqual(other.Gpus)
            && Nics.SequenceEqual(other.Nics)
            && NumaNodes.SequenceEqual(other.NumaNodes)
            && _gpuLinks.AsSpan().SequenceEqual(other._gpuLinks)
            && _nicLinks.AsSpan().SequenceEqual(other._nicLinks);
    }
}
