namespace SchedExt.Testing.FakeApi;

/// <summary>One kind of object the fake API server stores, with its URL and wire names.</summary>
internal sealed record ResourceType(string Group, string Version, string Plural, string Kind, bool Namespaced)
{
    public static readonly ResourceType Nodes = new(string.Empty, "v1", "nodes", "Node", Namespaced: false);
    public static readonly ResourceType Pods = new(string.Empty, "v1", "pods", "Pod", Namespaced: true);
    public static readonly ResourceType Leases = new("coordination.k8s.io", "v1", "leases", "Lease", Namespaced: true);
    public static readonly ResourceType CoreEvents = new(string.Empty, "v1", "events", "Event", Namespaced: true);
    public static readonly ResourceType Events = new("events.k8s.io", "v1", "events", "Event", Namespaced: true);
    public static readonly ResourceType Namespaces = new(string.Empty, "v1", "namespaces", "Namespace", Namespaced: false);

    public static readonly IReadOnlyList<ResourceType> All = [Nodes, Pods, Leases, CoreEvents, Events, Namespaces];

    public string ApiVersion => Group.Length == 0 ? Version : $"{Group}/{Version}";

    /// <summary>Resource name as the API server reports it in Status details and counters, e.g. <c>pods</c> or <c>leases.coordination.k8s.io</c>.</summary>
    public string Qualified => Group.Length == 0 ? Plural : $"{Plural}.{Group}";

    public static ResourceType? Find(string group, string version, string plural) =>
        All.FirstOrDefault(t => t.Group == group && t.Version == version && t.Plural == plural);
}
