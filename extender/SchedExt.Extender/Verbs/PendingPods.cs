using System.Collections.Concurrent;

namespace SchedExt.Extender.Verbs;

/// <summary>
/// Pods seen by filter but not bound yet, remembered for the in-memory cluster API (demo and snapshot modes), where
/// there is no API server to read a pending pod from at bind time. Bounded; the oldest half is dropped when full.
/// </summary>
internal sealed class PendingPods
{
    private const int Capacity = 10_000;
    private readonly ConcurrentDictionary<string, PendingPod> _byKey = new(StringComparer.Ordinal);

    public void Remember(Protocol.PodFacts pod)
    {
        if (pod.Name is null)
        {
            return;
        }

        if (_byKey.Count >= Capacity)
        {
            foreach (var key in _byKey.Keys.Take(Capacity / 2))
            {
                _byKey.TryRemove(key, out _);
            }
        }

        var ns = pod.Namespace ?? "default";
        _byKey[Key(ns, pod.Name)] = new PendingPod(pod.Uid ?? string.Empty, pod.GpuCount, new Dictionary<string, string>(pod.Annotations, StringComparer.Ordinal), pod.Priority);
    }

    public PendingPod? Find(string ns, string name) => _byKey.GetValueOrDefault(Key(ns, name));

    public void Forget(string ns, string name) => _byKey.TryRemove(Key(ns, name), out _);

    private static string Key(string ns, string name) => ns + "/" + name;
}

/// <summary>A pending pod's identity, GPU count, schedext.io annotations and priority.</summary>
internal sealed record PendingPod(string Uid, long GpuCount, Dictionary<string, string> Annotations, int Priority);
