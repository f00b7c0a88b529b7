using System.Collections.Concurrent;
using System.Numerics;
using SchedExt.Topology.Requests;
using SchedExt.Topology.Scoring;
using SchedExt.Topology.Shapes;

namespace SchedExt.Topology.Search;

/// <summary>
/// Decides, per node, whether a request fits, which GPUs it should get and how good that placement is.
/// Thread-safe; after warm-up (first sight of each shape and request class) an evaluation allocates nothing.
/// </summary>
/// <remarks>
/// For shapes of up to 16 GPUs the result of the exact search depends only on (shape, request class, free mask), so it
/// is memoised in a dense table of 2^n packed entries per (shape, request class): a node evaluation is then one array
/// read plus the two node-level score parts. Racing writers store the same value, so the tables need no lock.
/// </remarks>
public sealed class PlacementEngine
{
    private const ulong Computed = 1UL << 63;
    private const ulong FeasibleBit = 1UL << 62;

    /// <summary>At most this many memo entries in all (8 bytes each: 128 MiB), whatever variety of requests arrives.</summary>
    private const long MaxMemoEntries = 16L * 1024 * 1024;

    private readonly ConcurrentDictionary<MemoKey, ulong[]> _memos = new();
    private long _memoEntries;

    public PlacementEngine(ScoreWeights weights)
    {
        ArgumentNullException.ThrowIfNull(weights);
        weights.Validate();
        Weights = weights;
    }

    public ScoreWeights Weights { get; }

    /// <summary>Prepares a request for evaluation; throws <see cref="ArgumentException"/> for a request that is never valid.</summary>
    public CompiledRequest Compile(GpuRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        request.Validate();
        return new CompiledRequest(this, request);
    }

    /// <summary>Evaluates <paramref name="request"/> on a node of <paramref name="shape"/> whose free GPUs are <paramref name="freeGpus"/>.</summary>
    public NodeVerdict Evaluate(CompiledRequest request, NodeShape shape, ulong freeGpus, in NodeContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(shape);
        if (!ReferenceEquals(request.Engine, this))
        {
            throw new ArgumentException("the request was compiled by another engine", nameof(request));
        }

        var r = request.Request;
        if (MachineFit.Excludes(r.Machine, context.Machine))
        {
            return new NodeVerdict(r, Infeasibility.MachineKindMismatch, 0, unresolvable: true, context.Machine);
        }

        if (!shape.IsKnown && ((r.Interconnect != Interconnect.Any && r.Count > 1) || r.Nic == NicNeed.Required))
        {
            return new NodeVerdict(r, Infeasibility.NoTopology, 0, unresolvable: true, context.Machine);
        }

        var slot = request.SlotFor(shape);
        var result = SetResultFor(r, shape, slot, freeGpus & shape.AllGpus);
        if (result.Reason != Infeasibility.None)
        {
            var whenEmpty = freeGpus == shape.AllGpus ? result : SetResultFor(r, shape, slot, shape.AllGpus);
            return new NodeVerdict(r, result.Reason, result.Have, whenEmpty.Reason != Infeasibility.None, context.Machine);
        }

        var w = Weights;
        var score = result.Score
            + (w.Machine * MachineFit.Score(r.Machine, context.Machine))
            + (w.PlacementGroup * GroupLocality.Score(context.GroupPlaced, context.GroupSameRack, context.GroupSameBlock));
        return new NodeVerdict(r, result.Gpus, result.Score, score, w.MaxScore);
    }

    /// <summary>The largest GPU count for which <paramref name="request"/> (with that count) would fit in <paramref name="freeGpus"/>; 0 if none.</summary>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Performance", "CA1822", Justification = "Part of the engine's API next to Evaluate; callers hold an engine.")]
    public int LargestFeasibleCount(GpuRequest request, NodeShape shape, ulong freeGpus, MachineKind machine = MachineKind.Unknown)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(shape);
        if (MachineFit.Excludes(request.Machine, machine))
        {
            return 0;
        }

        var (_, candidates, _) = Filter(request, shape);
        candidates &= freeGpus & shape.AllGpus;
        var count = BitOperations.PopCount(candidates);
        if (count == 0)
        {
            return 0;
        }

        if (!shape.IsKnown && (request.Interconnect != Interconnect.Any || request.Nic == NicNeed.Required))
        {
            return request.Nic == NicNeed.Required ? 0 : 1;
        }

        return request.Interconnect == Interconnect.Any ? count : shape.LargestGroup(request.Interconnect, candidates);
    }

    /// <summary>Every score part of a given set, for explanations, annotations and hand-worked tests. Allocates.</summary>
    public ScoreBreakdown Explain(GpuRequest request, NodeShape shape, ulong freeGpus, ulong gpus, in NodeContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(shape);
        var w = Weights;
        var link = LinkQuality.Score(shape, gpus);
        var numa = NumaSpan.Score(shape, gpus);
        var nic = NicAffinity.Score(shape, gpus, request.Nic);
        var leftover = LeftoverFit.Score(shape, freeGpus, gpus);
        var machine = MachineFit.Score(request.Machine, context.Machine);
        var group = GroupLocality.Score(context.GroupPlaced, context.GroupSameRack, context.GroupSameBlock);
        var total = (w.LinkQuality * link) + (w.NumaSpan * numa) + (w.NicAffinity * nic) + (w.Leftover * leftover) + (w.Machine * machine) + (w.PlacementGroup * group);
        return new ScoreBreakdown(link, numa, nic, leftover, machine, group, total, w.MaxScore);
    }

    internal ShapeSlot CreateSlot(CompiledRequest request, NodeShape shape)
    {
        var r = request.Request;
        var (eligible, candidates, memoryUnknown) = Filter(r, shape);
        ulong[]? memo = null;
        if (shape.GpuCount <= NodeShape.ExactSearchLimit && BitOperations.PopCount(candidates) >= r.Count)
        {
            // Past the budget, new request classes are computed per call instead of memoised: slower, never wrong.
            var key = new MemoKey(shape.Id, r.Count, r.Interconnect, r.Nic, eligible);
            var size = 1 << shape.GpuCount;
            if (_memos.TryGetValue(key, out var existing))
            {
                memo = existing;
            }
            else if (Interlocked.Add(ref _memoEntries, size) <= MaxMemoEntries)
            {
                memo = _memos.GetOrAdd(key, static (_, n) => new ulong[n], size);
            }
            else
            {
                Interlocked.Add(ref _memoEntries, -size);
            }
        }

        return new ShapeSlot(eligible, candidates, memo, memoryUnknown);
    }

    private static (ulong Eligible, ulong Candidates, ulong MemoryUnknown) Filter(GpuRequest r, NodeShape shape)
    {
        ulong eligible = 0;
        ulong memoryUnknown = 0;
        var gpus = shape.Topology.Gpus;
        for (var i = 0; i < gpus.Count; i++)
        {
            var gpu = gpus[i];
            var productOk = r.ProductGlob is null || (gpu.Product is not null && ProductGlob.IsMatch(r.ProductGlob, gpu.Product));
            var memoryOk = r.MinMemoryMiB == 0 || gpu.MemoryMiB >= r.MinMemoryMiB;
            if (productOk && memoryOk)
            {
                eligible |= 1UL << i;
            }
            else if (productOk && gpu.MemoryMiB == 0)
            {
                memoryUnknown |= 1UL << i;
            }
        }

        var candidates = r.Nic == NicNeed.Required ? eligible & shape.NearNicGpus : eligible;
        return (eligible, candidates, memoryUnknown);
    }

    private SetResult SetResultFor(GpuRequest r, NodeShape shape, ShapeSlot slot, ulong free)
    {
        var memo = slot.Memo;
        if (memo is null)
        {
            return Compute(r, shape, slot, free);
        }

        // PERF: free < 2^16 here; a torn read is impossible for an aligned ulong on 64-bit runtimes.
        var packed = Volatile.Read(ref memo[(int)free]);
        if ((packed & Computed) == 0)
        {
            packed = Pack(Compute(r, shape, slot, free));
            Volatile.Write(ref memo[(int)free], packed);
        }

        return Unpack(packed);
    }

    private SetResult Compute(GpuRequest r, NodeShape shape, ShapeSlot slot, ulong free)
    {
        var k = r.Count;
        if (shape.GpuCount < k)
        {
            return SetResult.Fail(Infeasibility.TooFewGpus, shape.GpuCount);
        }

        if (BitOperations.PopCount(slot.Eligible) < k)
        {
            // Unknown memory is not taken as enough, but said as such: the fix is a label or the node agent, not a smaller request.
            return BitOperations.PopCount(slot.Eligible | slot.MemoryUnknown) >= k
                ? SetResult.Fail(Infeasibility.GpuMemoryUnknown, BitOperations.PopCount(slot.MemoryUnknown))
                : SetResult.Fail(Infeasibility.NoMatchingProduct, BitOperations.PopCount(free & slot.Eligible));
        }

        if (BitOperations.PopCount(slot.Candidates) < k)
        {
            return SetResult.Fail(Infeasibility.NotEnoughNearNic, BitOperations.PopCount(free & slot.Candidates));
        }

        if (BitOperations.PopCount(free) < k)
        {
            return SetResult.Fail(Infeasibility.NotEnoughFree, BitOperations.PopCount(free));
        }

        if (BitOperations.PopCount(free & slot.Eligible) < k)
        {
            return SetResult.Fail(Infeasibility.NoMatchingProduct, BitOperations.PopCount(free & slot.Eligible));
        }

        var candidates = free & slot.Candidates;
        if (BitOperations.PopCount(candidates) < k)
        {
            return SetResult.Fail(Infeasibility.NotEnoughNearNic, BitOperations.PopCount(candidates));
        }

        var tier = k == 1 ? Interconnect.Any : r.Interconnect;
        if (tier != Interconnect.Any)
        {
            var largest = shape.LargestGroup(tier, candidates);
            if (largest < k)
            {
                return SetResult.Fail(Infeasibility.LinkTooWeak, largest);
            }
        }

        var found = shape.GpuCount <= NodeShape.ExactSearchLimit
            ? GpuSetSearch.Exact(shape, Weights, r.Nic, tier, k, free, candidates, out var set, out var score)
            : GpuSetSearch.Heuristic(shape, Weights, r.Nic, tier, k, free, candidates, out set, out score);

        // Unreachable when the checks above hold (a group of size k exists); kept as a guard, not a silent wrong answer.
        return found ? new SetResult(set, score, Infeasibility.None, 0) : SetResult.Fail(Infeasibility.LinkTooWeak, 0);
    }

    private static ulong Pack(SetResult r) => r.Reason == Infeasibility.None
        ? Computed | FeasibleBit | ((ulong)(uint)r.Score << 16) | r.Gpus
        : Computed | (ulong)r.Reason | ((ulong)(byte)r.Have << 8);

    private static SetResult Unpack(ulong packed) => (packed & FeasibleBit) != 0
        ? new SetResult(packed & 0xFFFF, (int)(uint)((packed >> 16) & 0xFFFF_FFFF), Infeasibility.None, 0)
        : SetResult.Fail((Infeasibility)(packed & 0xFF), (int)((packed >> 8) & 0xFF));

    private readonly record struct MemoKey(int ShapeId, int Count, Interconnect Tier, NicNeed Nic, ulong Eligible);

    private readonly record struct SetResult(ulong Gpus, int Score, Infeasibility Reason, int Have)
    {
        public static SetResult Fail(Infeasibility reason, int have) => new(0, 0, reason, have);
    }
}

/// <summary>Every part of a placement's score (each 0..1000) and the weighted total.</summary>
public sealed record ScoreBreakdown(int LinkQuality, int NumaSpan, int NicAffinity, int Leftover, int Machine, int PlacementGroup, int Total, int MaxScore);
