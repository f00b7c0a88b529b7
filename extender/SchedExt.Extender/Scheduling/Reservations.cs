using SchedExt.Extender.State;

namespace SchedExt.Extender.Scheduling;

/// <summary>
/// GPUs this process has promised to pods whose annotations the watch has not delivered yet. Filter, prioritize and
/// bind subtract them from a snapshot's free GPUs, so two binds in flight never pick the same device. A reservation
/// ends when the snapshot shows the pod's allocation, when its bind fails, or after a time-to-live — but only once the
/// pod watch of <paramref name="state"/> has spoken since its bind could have finished: while that watch is silent, a
/// bound pod's GPUs are known only from its reservation.
/// </summary>
internal sealed class Reservations(TimeProvider time, ClusterState? state = null)
{
    private static readonly TimeSpan TimeToLive = TimeSpan.FromMinutes(2);

    /// <summary>Longer than a bind may run (its 30 s deadline): word from the pod watch after this covers the bind's outcome.</summary>
    private static readonly TimeSpan BindOutcomeHeardAfter = TimeSpan.FromSeconds(35);

    private readonly Lock _gate = new();
    private readonly Dictionary<string, List<Entry>> _byNode = new(StringComparer.Ordinal);
    private volatile int _count;

    /// <summary>Number of reservations held (for metrics and tests).</summary>
    public int Count => _count;

    /// <summary>
    /// GPUs reserved on <paramref name="node"/> and not yet visible in <paramref name="snapshot"/>, leaving out those of
    /// <paramref name="except"/> (preemption victims) when given.
    /// </summary>
    public ulong Reserved(string node, ClusterSnapshot snapshot, IReadOnlyList<Protocol.Victim>? except = null)
    {
        // PERF: the common case — nothing in flight — is one volatile read, no lock.
        if (_count == 0)
        {
            return 0;
        }

        lock (_gate)
        {
            return ReservedLocked(node, snapshot, exceptPods: except);
        }
    }

    /// <summary>
    /// Atomically: computes what is free on <paramref name="node"/> (snapshot minus reservations minus
    /// <paramref name="exclude"/>), lets <paramref name="choose"/> pick from it, and reserves the pick for <paramref name="podUid"/>.
    /// Returns the pick (0 when <paramref name="choose"/> found nothing).
    /// </summary>
    public ulong ChooseAndReserve(NodeState node, ClusterSnapshot snapshot, string podUid, ulong exclude, Func<ulong, ulong> choose)
    {
        lock (_gate)
        {
            var free = node.FreeGpus & ~ReservedLocked(node.Name, snapshot, exceptPod: podUid) & ~exclude;
            var pick = choose(free);
            if (pick != 0)
            {
                Release(node.Name, podUid);
                if (!_byNode.TryGetValue(node.Name, out var list))
                {
                    _byNode[node.Name] = list = [];
                }

                var now = time.GetUtcNow();
                list.Add(new Entry(podUid, pick, now + TimeToLive, now + BindOutcomeHeardAfter));
                _count++;
            }

            return pick;
        }
    }

    /// <summary>Drops the reservation of <paramref name="podUid"/> on <paramref name="node"/>, if any.</summary>
    public void Release(string node, string podUid)
    {
        lock (_gate)
        {
            if (_byNode.TryGetValue(node, out var list))
            {
                _count -= list.RemoveAll(e => e.PodUid == podUid);
            }
        }
    }

    /// <summary>
    /// Reservations still in force against <paramref name="snapshot"/> (for the metric): drops, on every node, the
    /// expired ones and those the snapshot already shows, which otherwise go only when their node is next looked at.
    /// </summary>
    public int Live(ClusterSnapshot snapshot)
    {
        lock (_gate)
        {
            foreach (var (node, list) in _byNode.ToList())
            {
                PruneLocked(list, snapshot);
                if (list.Count == 0)
                {
                    _byNode.Remove(node);
                }
            }

            return _count;
        }
    }

    private ulong ReservedLocked(string node, ClusterSnapshot snapshot, string? exceptPod = null, IReadOnlyList<Protocol.Victim>? exceptPods = null)
    {
        if (!_byNode.TryGetValue(node, out var list))
        {
            return 0;
        }

        // Expired entries and entries the snapshot already shows are dropped here, lazily.
        PruneLocked(list, snapshot);
        ulong mask = 0;
        foreach (var e in list)
        {
            if (e.PodUid != exceptPod && (exceptPods is null || !VictimSelection.IsVictim(e.PodUid, exceptPods)))
            {
                mask |= e.Gpus;
            }
        }

        return mask;
    }

    /// <summary>Drops the entries of <paramref name="list"/> that have expired or that <paramref name="snapshot"/> already shows.</summary>
    private void PruneLocked(List<Entry> list, ClusterSnapshot snapshot)
    {
        var now = time.GetUtcNow();
        var podsHeard = state?.LastContactOf(ContactStream.Pods);
        _count -= list.RemoveAll(e => snapshot.Allocations.ContainsKey(e.PodUid) || (e.Expires <= now && (podsHeard is null || podsHeard >= e.HeardAfter)));
    }

    /// <summary>A reservation; past <c>Expires</c> it ends only once the pod watch has spoken at or after <c>HeardAfter</c> (or there is none).</summary>
    private readonly record struct Entry(string PodUid, ulong Gpus, DateTimeOffset Expires, DateTimeOffset HeardAfter);
}
