using SchedExt.Topology.Model;

namespace SchedExt.Topology.Shapes;

/// <summary>Interns node topologies by hardware shape so that shape-only work is done once and shared; thread-safe.</summary>
public sealed class ShapeCatalog
{
    private readonly Lock _gate = new();
    private readonly Dictionary<ulong, List<(byte[] Key, NodeShape Shape)>> _byFingerprint = [];
    private volatile NodeShape[] _shapes = [];

    /// <summary>Every shape interned so far, indexed by <see cref="NodeShape.Id"/>.</summary>
    public IReadOnlyList<NodeShape> Shapes => _shapes;

    /// <summary>The shared shape of <paramref name="topology"/>, created on first sight.</summary>
    public NodeShape GetOrAdd(NodeTopology topology)
    {
        ArgumentNullException.ThrowIfNull(topology);
        var key = ShapeKey(topology);
        var fingerprint = Fnv1a(key);
        lock (_gate)
        {
            if (_byFingerprint.TryGetValue(fingerprint, out var bucket))
            {
                foreach (var (existingKey, shape) in bucket)
                {
                    if (existingKey.AsSpan().SequenceEqual(key))
                    {
                        return shape;
                    }
                }
            }
            else
            {
                bucket = [];
                _byFingerprint[fingerprint] = bucket;
            }

            var created = new NodeShape(_shapes.Length, fingerprint, topology);
            bucket.Add((key, created));
            _shapes = [.. _shapes, created];
            return created;
        }
    }

    /// <summary>Canonical bytes of everything that makes two nodes schedule alike: links, NUMA placement, products, memory.</summary>
    private static byte[] ShapeKey(NodeTopology t)
    {
        using var buffer = new MemoryStream();
        using var writer = new BinaryWriter(buffer);
        writer.Write(t.IsKnown);
        writer.Write(t.GpuCount);
        writer.Write(t.Nics.Count);
        writer.Write(t.GpuLinkCodes);
        writer.Write(t.NicLinkCodes);
        foreach (var gpu in t.Gpus)
        {
            writer.Write(gpu.NumaNode);
            writer.Write(gpu.MemoryMiB);
            writer.Write(gpu.Product ?? string.Empty);
        }

        foreach (var nic in t.Nics)
        {
            writer.Write(nic.NumaNode);
        }

        writer.Flush();
        return buffer.ToArray();
    }

    private static ulong Fnv1a(ReadOnlySpan<byte> bytes)
    {
        var hash = 14695981039346656037UL;
        foreach (var b in bytes)
        {
            hash = (hash ^ b) * 1099511628211UL;
        }

        return hash;
    }
}
