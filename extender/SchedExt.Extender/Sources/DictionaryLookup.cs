namespace SchedExt.Extender.Sources;

/// <summary>Null-tolerant look-ups in the <see cref="IDictionary{TKey, TValue}"/> maps of the Kubernetes models (labels, annotations, allocatable).</summary>
internal static class DictionaryLookup
{
    public static TValue? ValueOf<TValue>(this IDictionary<string, TValue>? map, string key) =>
        map is not null && map.TryGetValue(key, out var value) ? value : default;
}
