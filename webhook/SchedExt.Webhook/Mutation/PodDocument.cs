using System.Globalization;
using System.Text.Json;

namespace SchedExt.Webhook.Mutation;

/// <summary>Read access to the parts of a pod object the webhook mutates, over a parsed <see cref="JsonElement"/>.</summary>
internal sealed class PodDocument
{
    public PodDocument(JsonElement root)
    {
        Root = root;
        Metadata = Child(root, "metadata");
        Spec = Child(root, "spec");
        Labels = StringMap(Metadata, "labels", out var hasLabels);
        HasLabels = hasLabels;
        Annotations = StringMap(Metadata, "annotations", out var hasAnnotations);
        HasAnnotations = hasAnnotations;
        Containers = ArrayOf(Spec, "containers");
        InitContainers = ArrayOf(Spec, "initContainers");
    }

    public JsonElement Root { get; }

    public JsonElement? Metadata { get; }

    public JsonElement? Spec { get; }

    public IReadOnlyDictionary<string, string> Labels { get; }

    public bool HasLabels { get; }

    public IReadOnlyDictionary<string, string> Annotations { get; }

    public bool HasAnnotations { get; }

    public JsonElement? Containers { get; }

    public int ContainerCount => Containers?.GetArrayLength() ?? 0;

    /// <summary><c>spec.initContainers</c>, or null when absent: they hold devices too (see <see cref="PodGpuDemand"/>).</summary>
    public JsonElement? InitContainers { get; }

    /// <summary>The pod's name, or its generateName prefix for controller-made pods, for messages and templates.</summary>
    public string DisplayName(string fallback) =>
        Str(Metadata, "name") ?? Str(Metadata, "generateName")?.TrimEnd('-') ?? fallback;

    public string? SchedulerName => Str(Spec, "schedulerName");

    public bool HasSchedulerName => Spec is { } s && s.TryGetProperty("schedulerName"u8, out _);

    public JsonElement Container(int index) => Containers!.Value[index];

    public int IndexOfContainer(string name)
    {
        for (var i = 0; i < ContainerCount; i++)
        {
            if (Str(Container(i), "name") == name)
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>The <c>resourceClaimTemplateName</c> of the pod's resource claim <paramref name="claim"/>, or null (no such claim, or one naming a ResourceClaim).</summary>
    public string? ClaimTemplateName(string claim) =>
        ArrayOf(Spec, "resourceClaims") is { } claims && IndexOfNamed(claims, claim) is var at and >= 0
            ? Str(claims[at], "resourceClaimTemplateName")
            : null;

    /// <summary>The index of the first entry of <paramref name="array"/> whose <c>name</c> is <paramref name="name"/>, or -1.</summary>
    public static int IndexOfNamed(JsonElement array, string name)
    {
        var i = 0;
        foreach (var item in array.EnumerateArray())
        {
            if (Str(item, "name") == name)
            {
                return i;
            }

            i++;
        }

        return -1;
    }

    public static JsonElement? Child(JsonElement? parent, string name) =>
        parent is { ValueKind: JsonValueKind.Object } p && p.TryGetProperty(name, out var v) && v.ValueKind != JsonValueKind.Null ? v : null;

    public static JsonElement? ArrayOf(JsonElement? parent, string name) =>
        Child(parent, name) is { ValueKind: JsonValueKind.Array } v ? v : null;

    public static string? Str(JsonElement? parent, string name) =>
        Child(parent, name) is { ValueKind: JsonValueKind.String } v ? v.GetString() : null;

    /// <summary>A quantity as an integer: a JSON number or a string of digits. Null when absent; false when not a whole number.</summary>
    public static bool TryQuantity(JsonElement value, out int count)
    {
        count = 0;
        return value.ValueKind switch
        {
            JsonValueKind.Number => value.TryGetInt32(out count),
            JsonValueKind.String => int.TryParse(value.GetString(), NumberStyles.None, CultureInfo.InvariantCulture, out count),
            _ => false,
        };
    }

    private static Dictionary<string, string> StringMap(JsonElement? parent, string name, out bool exists)
    {
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        var obj = Child(parent, name);
        exists = obj is { ValueKind: JsonValueKind.Object };
        if (exists)
        {
            foreach (var p in obj!.Value.EnumerateObject())
            {
                if (p.Value.ValueKind == JsonValueKind.String)
                {
                    map[p.Name] = p.Value.GetString()!;
                }
            }
        }

        return map;
    }
}
