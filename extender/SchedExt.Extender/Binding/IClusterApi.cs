namespace SchedExt.Extender.Binding;

/// <summary>The API-server operations the binder needs; KubernetesClient in a cluster, in-memory for the demo and snapshot modes.</summary>
internal interface IClusterApi
{
    /// <summary>The pod's current facts, or null when it does not exist.</summary>
    Task<PodRecord?> GetPodAsync(string ns, string name, CancellationToken cancellationToken);

    /// <summary>
    /// Creates the pod's Binding to <paramref name="node"/> carrying <paramref name="annotations"/>, which the API server
    /// sets on the pod in the same update as its node (null: none); throws <see cref="ApiConflictException"/> when the
    /// server refuses it (e.g. the pod is already bound).
    /// </summary>
    Task BindAsync(string ns, string name, string uid, string node, IReadOnlyDictionary<string, string>? annotations, CancellationToken cancellationToken);

    /// <summary>Records a Kubernetes Event on the pod (best effort).</summary>
    Task RecordEventAsync(string ns, string name, string uid, string type, string reason, string message, CancellationToken cancellationToken);

    /// <summary>Creates claim <paramref name="claimName"/> if absent; otherwise returns who holds it.</summary>
    Task<ClaimOutcome> TryClaimAsync(string claimName, ClaimHolder holder, CancellationToken cancellationToken);

    /// <summary>Deletes a claim if it still is the version given (null: unconditionally); absent is success.</summary>
    Task ReleaseClaimAsync(string claimName, string? resourceVersion, CancellationToken cancellationToken);

    /// <summary>Every claim, for the janitor.</summary>
    Task<IReadOnlyList<ClaimRecord>> ListClaimsAsync(CancellationToken cancellationToken);
}

/// <summary>What the binder needs to know of a pod.</summary>
internal sealed record PodRecord(string Uid, string? NodeName, string? Phase, bool Deleting, long GpuCount, IReadOnlyDictionary<string, string> Annotations);

/// <summary>
/// The pod a claim is made for, and the extender replica that made it (<paramref name="Replica"/>: empty when unknown,
/// e.g. a claim written by an older version).
/// </summary>
internal sealed record ClaimHolder(string PodUid, string Namespace, string PodName, string Node, int Gpu, string Replica = "");

/// <summary>A claim as stored: holder, version and age.</summary>
internal sealed record ClaimRecord(string Name, ClaimHolder Holder, string? ResourceVersion, DateTimeOffset? Created);

/// <summary>
/// Result of a create-if-absent claim: created (with the new object's version), or the record that already exists, or
/// neither when the existing claim vanished between the failed create and the read (the caller simply tries again).
/// </summary>
internal sealed record ClaimOutcome(bool Created, ClaimRecord? Existing, string? Version = null);

/// <summary>The API server refused a write because of a conflicting state (HTTP 409).</summary>
internal sealed class ApiConflictException : Exception
{
    public ApiConflictException(string message)
        : base(message)
    {
    }

    public ApiConflictException()
    {
    }

    public ApiConflictException(string message, Exception inner)
        : base(message, inner)
    {
    }
}
