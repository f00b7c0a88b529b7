using SchedExt.Simulator.Inputs;
using SchedExt.Simulator.Policies;
using SchedExt.Simulator.Results;

namespace SchedExt.Simulator.Engine;

/// <summary>
/// Discrete-event replay of a trace under one policy. Time is in seconds. At each instant: jobs ending then release
/// their GPUs; if anything was released, waiting jobs are retried oldest first; then jobs arriving then are tried in
/// trace order. A job that does not fit waits in a FIFO queue without blocking later jobs (no head-of-line blocking:
/// kube-scheduler's queue moves past a pod it cannot place, too). A job no node could take even empty is dropped on
/// arrival and counted as never placed; so are jobs still waiting when nothing is left to run.
/// </summary>
/// <remarks>
/// PERF: a waiting job failed on every node when last tried; since then, nodes only lost free GPUs except those
/// released now. Feasibility is monotone in the free GPUs (a property test of the core), so on retry only the released
/// nodes can fit, and evaluating just those picks the same node a full filter/prioritize would. Likewise a job whose
/// class (<see cref="IPlacementPolicy.ClassOf"/>) already failed since the last release fails too and is not evaluated.
/// </remarks>
internal sealed class Simulation
{
    private const int ProgressEvery = 1024;

    private readonly IPlacementPolicy _policy;
    private readonly SimulatedCluster _cluster;
    private readonly IReadOnlyList<SimJob> _jobs;
    private readonly PolicyResult _result;
    private readonly int[] _classOf;
    private readonly List<Queue<int>> _waiting = [];
    private readonly List<bool> _neverFits = [];
    private readonly PriorityQueue<int, (double End, long Seq)> _running = new();
    private readonly PriorityQueue<int, int> _retryOrder = new();
    private readonly int[] _allNodes;
    private readonly List<int> _released = [];
    private readonly int[] _releasedStamp;
    private int _stamp;
    private long _startSeq;
    private int _pending;

    public Simulation(IPlacementPolicy policy, ClusterInput input, IReadOnlyList<SimJob> jobs, ShapeFactsCache facts)
    {
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(jobs);
        _policy = policy;
        _jobs = jobs;
        _cluster = new SimulatedCluster(input, facts);
        _result = new PolicyResult(policy.Name, jobs.Count, _cluster.TotalGpus) { NodeNames = input.Nodes.Select(n => n.Name).ToArray() };
        _allNodes = Enumerable.Range(0, _cluster.Count).ToArray();
        _releasedStamp = new int[_cluster.Count];
        _classOf = new int[jobs.Count];
        for (var i = 0; i < jobs.Count; i++)
        {
            if (jobs[i].Id != i || (i > 0 && jobs[i].Arrival < jobs[i - 1].Arrival))
            {
                throw new ArgumentException("jobs must be in arrival order with ids 0..n-1 (as TraceReader returns them)", nameof(jobs));
            }

            _classOf[i] = policy.ClassOf(jobs[i]);
            while (_waiting.Count <= _classOf[i])
            {
                _waiting.Add(new Queue<int>());
                _neverFits.Add(false);
            }
        }
    }

    /// <summary>Runs to the end; <paramref name="progress"/> gets the number of jobs that have arrived, now and then.</summary>
    public PolicyResult Run(Action<int>? progress = null)
    {
        var next = 0;
        var last = 0.0;
        Record(0);
        while (next < _jobs.Count || _running.Count > 0)
        {
            var now = next < _jobs.Count ? _jobs[next].Arrival : double.PositiveInfinity;
            if (_running.TryPeek(out _, out var ending) && ending.End < now)
            {
                now = ending.End;
            }

            Integrate(now - last);
            last = now;
            ReleaseEndingAt(now);
            if (_released.Count > 0 && _pending > 0)
            {
                RetryWaiting(now);
            }

            while (next < _jobs.Count && _jobs[next].Arrival <= now)
            {
                Arrive(_jobs[next++], now);
                if (next % ProgressEvery == 0)
                {
                    progress?.Invoke(next);
                }
            }

            Record(now);
        }

        progress?.Invoke(_jobs.Count);
        _result.Makespan = last;
        _result.StillPending = _pending;
        return _result;
    }

    private void Arrive(SimJob job, double now)
    {
        var c = _classOf[job.Id];
        if (_neverFits[c])
        {
            _result.Unplaceable++;
            return;
        }

        // An older job of the same class is waiting: it failed since the last release, so this one would fail too.
        if (_waiting[c].Count == 0)
        {
            switch (_policy.TryPlace(job, _cluster, _allNodes, allNodes: true, out var node, out var gpus))
            {
                case PlaceOutcome.Placed:
                    Start(job, node, gpus, now);
                    return;
                case PlaceOutcome.Never:
                    _neverFits[c] = true;
                    _result.Unplaceable++;
                    return;
                default:
                    break;
            }
        }

        _waiting[c].Enqueue(job.Id);
        _pending++;
    }

    private void ReleaseEndingAt(double now)
    {
        _released.Clear();
        _stamp++;
        while (_running.TryPeek(out var id, out var ending) && ending.End <= now)
        {
            _running.Dequeue();
            var node = _result.NodeOf[id];
            _cluster.Release(node, _result.GpusOf[id], _jobs[id].Group);
            if (_releasedStamp[node] != _stamp)
            {
                _releasedStamp[node] = _stamp;
                _released.Add(node);
            }
        }

        // Ascending node index is name order: the tie-break every policy relies on.
        _released.Sort();
    }

    private void RetryWaiting(double now)
    {
        _retryOrder.Clear();
        for (var c = 0; c < _waiting.Count; c++)
        {
            if (_waiting[c].Count > 0)
            {
                _retryOrder.Enqueue(c, _waiting[c].Peek());
            }
        }

        // Oldest waiting job first across classes; a class that fails is done for this instant (placements only take GPUs).
        var candidates = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_released);
        while (_retryOrder.TryDequeue(out var c, out var id))
        {
            if (_policy.TryPlace(_jobs[id], _cluster, candidates, allNodes: false, out var node, out var gpus) != PlaceOutcome.Placed)
            {
                continue;
            }

            _waiting[c].Dequeue();
            _pending--;
            Start(_jobs[id], node, gpus, now);
            if (_waiting[c].Count > 0)
            {
                _retryOrder.Enqueue(c, _waiting[c].Peek());
            }
        }
    }

    private void Start(SimJob job, int node, ulong gpus, double now)
    {
        _cluster.Allocate(node, gpus, job.Group);
        _running.Enqueue(job.Id, (now + job.Duration, _startSeq++));
        var r = _result;
        r.NodeOf[job.Id] = node;
        r.GpusOf[job.Id] = gpus;
        r.DelayOf[job.Id] = now - job.Arrival;
        r.Placed++;
        var facts = _cluster.Facts(node);
        var request = job.Request;
        if (request.Count > 1)
        {
            r.MultiGpuPlaced++;
            if (facts.IsAllNvLink(gpus))
            {
                r.AllNvLink++;
            }

            if (request.Count <= facts.LargestNuma)
            {
                r.NumaAvoidable++;
                if (facts.SpansNuma(gpus))
                {
                    r.NumaSplit++;
                }
            }
        }

        if (request.Nic != Topology.Requests.NicNeed.None)
        {
            r.RdmaAsked++;
            if (facts.MissesNearNic(gpus))
            {
                r.RdmaMissed++;
            }
        }
    }

    private void Integrate(double dt)
    {
        if (dt <= 0)
        {
            return;
        }

        _result.UsedGpuSeconds += _cluster.UsedGpus * dt;
        for (var s = 0; s < _result.StrandedGpuSeconds.Length; s++)
        {
            _result.StrandedGpuSeconds[s] += _cluster.Stranded(s) * dt;
        }
    }

    private void Record(double now) => _result.Timeline.Add(new TimelinePoint(
        now, _cluster.UsedGpus, _pending, _cluster.TotalGpus - _cluster.UsedGpus, _cluster.Stranded(0), _cluster.Stranded(1)));
}
