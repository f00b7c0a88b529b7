using System.Globalization;
using System.Text.Json;
using SchedExt.Topology.Model;
using SchedExt.Topology.Requests;

namespace SchedExt.Webhook.Mutation;

/// <summary>The GPUs a pod's own containers already ask for, counted exactly as the extender counts them.</summary>
/// <remarks>
/// Every app and init container naming the resource in <c>limits</c> or <c>requests</c> is a holder; the pod's count is
/// <see cref="PodGpuTally"/>'s count (app containers and sidecars together, or the largest init container), the number the extender filters and
/// binds with. Only a pod whose single holder is an app container has one place the webhook could change; any other
/// spread is the user's to change, since the webhook cannot tell which container should give GPUs up.
/// </remarks>
internal sealed class PodGpuDemand
{
    private static readonly string NotACount = string.Create(CultureInfo.InvariantCulture, $"not a GPU count in 1..{NodeTopology.MaxGpus}");

    private readonly List<string> _holders = [];

    private PodGpuDemand()
    {
    }

    /// <summary>No container names the resource (also: DRA mode, where limits are not the device request).</summary>
    public static PodGpuDemand None { get; } = new();

    /// <summary>How many app and init containers name the resource.</summary>
    public int Holders => _holders.Count;

    /// <summary>The app container that holds the resource when it is the only holder, else -1.</summary>
    public int SoleContainer { get; private set; } = -1;

    /// <summary>The pod's count, 1..64; null when no container names the resource or the count is not a valid one.</summary>
    public int? Count { get; private set; }

    /// <summary>Why the containers' values are not a GPU count, for <see cref="AdmissionProblem.InvalidGpuCount"/>; null when they are.</summary>
    public string? Problem { get; private set; }

    /// <summary>Each holder and its value as written, e.g. <c>main: 1, init warmup: 8</c>, for messages.</summary>
    public string Describe() => string.Join(", ", _holders);

    public static PodGpuDemand Read(PodDocument pod, string resource)
    {
        var demand = new PodGpuDemand();
        var tally = default(PodGpuTally);
        var appHolders = 0;
        string? unreadable = null, onlyValue = null;
        for (var i = 0; i < pod.ContainerCount; i++)
        {
            if (demand.Add(pod.Container(i), resource, "", ref unreadable, ref onlyValue) is { } count)
            {
                tally.AddContainer(count);
                demand.SoleContainer = i;
                appHolders++;
            }
        }

        if (pod.InitContainers is { } initContainers)
        {
            foreach (var container in initContainers.EnumerateArray())
            {
                if (demand.Add(container, resource, "init ", ref unreadable, ref onlyValue) is { } count)
                {
                    var sidecar = container.ValueKind == JsonValueKind.Object && container.TryGetProperty("restartPolicy", out var policy)
                        && policy.ValueKind == JsonValueKind.String && policy.ValueEquals("Always");
                    tally.AddInitContainer(count, sidecar);
                }
            }
        }

        if (demand.Holders == 0)
        {
            return None;
        }

        if (demand.Holders != 1 || appHolders != 1)
        {
            demand.SoleContainer = -1;
        }

        var range = NotACount;
        if (unreadable is not null)
        {
            demand.Problem = $"{unreadable} is {range}";
        }
        else if (tally.Total is >= 1 and <= NodeTopology.MaxGpus)
        {
            demand.Count = (int)tally.Total;
        }
        else
        {
            // One holder is reported as written; several by what they come to together.
            demand.Problem = demand.Holders == 1
                ? $"{onlyValue} is {range}"
                : string.Create(CultureInfo.InvariantCulture, $"the containers' {resource} ({demand.Describe()}) come to {tally.Total} GPU(s) for the pod, {range}");
        }

        return demand;
    }

    /// <summary>The container's count when it names the resource (0 for a value that is not a whole number), else null.</summary>
    private long? Add(JsonElement container, string resource, string kind, ref string? unreadable, ref string? onlyValue)
    {
        var resources = PodDocument.Child(container, "resources");
        var limit = Quantity(PodDocument.Child(resources, "limits"), resource);
        var request = Quantity(PodDocument.Child(resources, "requests"), resource);
        if (limit is null && request is null)
        {
            return null;
        }

        // The limit decides, as in PodGpuTally.ContainerCount; a request that differs from it is aligned by the planner.
        var (map, value) = limit is { } l ? ("limits", l) : ("requests", request!.Value);
        var written = value.ValueKind == JsonValueKind.String ? value.GetString()! : value.GetRawText();
        var name = PodDocument.Str(container, "name") ?? "?";
        _holders.Add($"{kind}{name}: {written}");
        onlyValue = $"{kind}container '{name}' resources.{map}[\"{resource}\"]: '{written}'";
        if (PodDocument.TryQuantity(value, out var n) && n >= 0)
        {
            return PodGpuTally.ContainerCount(n, null);
        }

        unreadable ??= onlyValue;
        return 0;
    }

    private static JsonElement? Quantity(JsonElement? map, string resource) =>
        map is { ValueKind: JsonValueKind.Object } m && m.TryGetProperty(resource, out var v) ? v : null;
}
