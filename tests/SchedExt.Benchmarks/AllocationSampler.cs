using System.Collections.Concurrent;
using System.Diagnostics.Tracing;

namespace SchedExt.Benchmarks;

/// <summary>
/// Names what allocates: listens to the runtime's GC AllocationTick events (one per ~100 KB allocated, with the type and
/// size of the object that crossed the threshold) and tallies them by type.
/// </summary>
internal sealed class AllocationSampler : EventListener
{
    private readonly ConcurrentDictionary<string, (int Ticks, long MaxObject)> _byType = new(StringComparer.Ordinal);

    public volatile bool Recording;

    public IReadOnlyDictionary<string, (int Ticks, long MaxObject)> ByType => _byType;

    protected override void OnEventSourceCreated(EventSource eventSource)
    {
        if (eventSource.Name == "Microsoft-Windows-DotNETRuntime")
        {
            EnableEvents(eventSource, EventLevel.Verbose, (EventKeywords)0x1);
        }
    }

    protected override void OnEventWritten(EventWrittenEventArgs eventData)
    {
        if (!Recording || eventData.EventName?.StartsWith("GCAllocationTick", StringComparison.Ordinal) != true || eventData.PayloadNames is null)
        {
            return;
        }

        var type = eventData.Payload![eventData.PayloadNames.IndexOf("TypeName")] as string ?? "?";
        var sizeIndex = eventData.PayloadNames.IndexOf("ObjectSize");
        var size = sizeIndex >= 0 ? Convert.ToInt64(eventData.Payload[sizeIndex], System.Globalization.CultureInfo.InvariantCulture) : 0;
        _byType.AddOrUpdate(type, (1, size), (_, v) => (v.Ticks + 1, Math.Max(v.MaxObject, size)));
    }
}
