using System.Collections.Concurrent;
using SchedExt.Topology.Requests;
using SchedExt.Topology.Search;

namespace SchedExt.Extender.Scheduling;

/// <summary>Compiled requests by value: pods asking the same thing share one compiled request and its per-shape memo.</summary>
internal sealed class RequestCache(PlacementEngine engine)
{
    // Distinct requests are few in practice (a handful of profiles); the cap bounds memory against adversarial variety.
    private const int Capacity = 4096;
    private readonly ConcurrentDictionary<GpuRequest, CompiledRequest> _compiled = new();

    public PlacementEngine Engine { get; } = engine;

    public CompiledRequest Get(GpuRequest request)
    {
        if (_compiled.TryGetValue(request, out var compiled))
        {
            return compiled;
        }

        if (_compiled.Count >= Capacity)
        {
            _compiled.Clear();
        }

        return _compiled.GetOrAdd(request, Engine.Compile);
    }
}
