using SchedExt.Topology.Requests;
using SchedExt.Topology.Shapes;

namespace SchedExt.Topology.Search;

/// <summary>
/// A request prepared for one engine: per shape, the GPUs that match its product and memory filter and the memo
/// table of its request class. Compile once per distinct request and evaluate it against any number of nodes.
/// </summary>
public sealed class CompiledRequest
{
    private readonly PlacementEngine _engine;
    private volatile ShapeSlot?[] _slots = [];

    internal CompiledRequest(PlacementEngine engine, GpuRequest request)
    {
        _engine = engine;
        Request = request;
    }

    public GpuRequest Request { get; }

    internal PlacementEngine Engine => _engine;

    internal ShapeSlot SlotFor(NodeShape shape)
    {
        // PERF: the common path is one array read; slots are created on first sight of a shape (warm-up only).
        var slots = _slots;
        if ((uint)shape.Id < (uint)slots.Length && slots[shape.Id] is { } slot)
        {
            return slot;
        }

        return CreateSlot(shape);
    }

    private ShapeSlot CreateSlot(NodeShape shape)
    {
        var created = _engine.CreateSlot(this, shape);
        lock (this)
        {
            var slots = _slots;
            if ((uint)shape.Id < (uint)slots.Length && slots[shape.Id] is { } existing)
            {
                return existing;
            }

            var grown = slots.Length > shape.Id ? (ShapeSlot?[])slots.Clone() : new ShapeSlot?[Math.Max(shape.Id + 1, slots.Length * 2)];
            slots.CopyTo(grown, 0);
            grown[shape.Id] = created;
            _slots = grown;
            return created;
        }
    }
}

/// <summary>What a compiled request knows about one shape.</summary>
internal sealed class ShapeSlot(ulong eligible, ulong candidates, ulong[]? memo, ulong memoryUnknown = 0)
{
    /// <summary>GPUs matching the product glob and minimum memory.</summary>
    public ulong Eligible { get; } = eligible;

    /// <summary>GPUs matching the product glob whose memory size is unknown, when the request sets a minimum.</summary>
    public ulong MemoryUnknown { get; } = memoryUnknown;

    /// <summary>Eligible GPUs that also satisfy the NIC requirement: the only GPUs a set may contain.</summary>
    public ulong Candidates { get; } = candidates;

    /// <summary>Packed results per free mask (shapes of up to 16 GPUs); shared by every request of the same class.</summary>
    public ulong[]? Memo { get; } = memo;
}
