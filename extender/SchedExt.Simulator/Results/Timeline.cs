namespace SchedExt.Simulator.Results;

/// <summary>The cluster after each event instant: a step function sampled onto a common grid for the CSV and charts.</summary>
internal sealed class Timeline
{
    private readonly List<TimelinePoint> _points = [];

    public IReadOnlyList<TimelinePoint> Points => _points;

    public void Add(in TimelinePoint point)
    {
        // Several events at one instant leave one point: the state after the last of them.
        if (_points.Count > 0 && _points[^1].Time == point.Time)
        {
            _points[^1] = point;
            return;
        }

        _points.Add(point);
    }

    /// <summary>The state at <paramref name="time"/>: the last point at or before it (an empty cluster before the first).</summary>
    public TimelinePoint At(double time)
    {
        var lo = 0;
        var hi = _points.Count - 1;
        var found = -1;
        while (lo <= hi)
        {
            var mid = (lo + hi) >>> 1;
            if (_points[mid].Time <= time)
            {
                found = mid;
                lo = mid + 1;
            }
            else
            {
                hi = mid - 1;
            }
        }

        return found < 0 ? new TimelinePoint(time, 0, 0, 0, 0, 0) : _points[found] with { Time = time };
    }
}

/// <summary>One instant: GPUs in use (running jobs and snapshot pods), jobs waiting, free GPUs and those stranded for 4- and 8-GPU NVLink jobs.</summary>
internal readonly record struct TimelinePoint(double Time, int UsedGpus, int Pending, int FreeGpus, int StrandedNvLink4, int StrandedNvLink8);
