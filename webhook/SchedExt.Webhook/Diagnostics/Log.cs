using SchedExt.Webhook.Policy;

namespace SchedExt.Webhook.Diagnostics;

/// <summary>Every log message of the webhook, with its event id (1xx policy, 2xx admission, 3xx cluster, 4xx hosting).</summary>
internal static partial class Log
{
    [LoggerMessage(101, LogLevel.Information, "Policy {Path} loaded: version {Version}, mode {Mode}, {Profiles} profile(s)")]
    public static partial void PolicyLoaded(ILogger logger, string path, string version, PolicyMode mode, int profiles);

    [LoggerMessage(102, LogLevel.Error, "Policy {Path} rejected: {Reason}. The policy in force stays at version {Version}")]
    public static partial void PolicyRejected(ILogger logger, string path, string reason, string version);

    [LoggerMessage(103, LogLevel.Error, "Policy {Path} cannot be read: {Reason}")]
    public static partial void PolicyUnreadable(ILogger logger, string path, string reason);

    [LoggerMessage(201, LogLevel.Information, "Denied pod {Namespace}/{Pod} (uid {Uid}): {Reason}")]
    public static partial void Denied(ILogger logger, string @namespace, string pod, string uid, string reason);

    [LoggerMessage(202, LogLevel.Warning, "Malformed AdmissionReview: {Reason}")]
    public static partial void BadReview(ILogger logger, string reason);

    [LoggerMessage(203, LogLevel.Debug, "Shadow mode: pod {Namespace}/{Pod} would get {Operations} patch operation(s); problems: {Problems}")]
    public static partial void Shadow(ILogger logger, string @namespace, string pod, int operations, string problems);

    [LoggerMessage(204, LogLevel.Debug, "Feasibility check skipped for pod {Namespace}/{Pod}: no GPU node shapes known (no snapshot file and no cluster connection, not synced yet, or no GPU node in the cluster)")]
    public static partial void FeasibilitySkipped(ILogger logger, string @namespace, string pod);

    [LoggerMessage(301, LogLevel.Information, "Node shapes from {Source}: {Shapes} shape(s) over {Nodes} GPU node(s); {Namespaces} namespace(s)")]
    public static partial void ShapesUpdated(ILogger logger, string source, int shapes, int nodes, int namespaces);

    [LoggerMessage(302, LogLevel.Warning, "Node {Node}: topology annotation ignored ({Reason}); its GPUs count as a shape without wiring")]
    public static partial void BadTopology(ILogger logger, string node, string reason);

    [LoggerMessage(303, LogLevel.Error, "Snapshot file {Path} cannot be used: {Reason}. Keeping the previous node shapes (none before the first good file: feasibility checks are skipped until then)")]
    public static partial void SnapshotRejected(ILogger logger, string path, string reason);

    [LoggerMessage(304, LogLevel.Warning, "Watch of {Resource} ended: {Reason}. Re-listing")]
    public static partial void WatchRestart(ILogger logger, string resource, string reason);

    [LoggerMessage(305, LogLevel.Warning, "No Kubernetes API configuration found (not in cluster, no KUBECONFIG) and no snapshot file: feasibility checks and namespace labels are off")]
    public static partial void NoClusterSource(ILogger logger);

    [LoggerMessage(306, LogLevel.Error, "Listing {Resource} failed: {Reason}. Retrying in {Delay}")]
    public static partial void ListFailed(ILogger logger, string resource, string reason, TimeSpan delay);

    [LoggerMessage(401, LogLevel.Warning, "TLS certificate {CertFile} and key {KeyFile} are absent: serving plain HTTP on port {Port} (development only)")]
    public static partial void PlainHttp(ILogger logger, string certFile, string keyFile, int port);

    [LoggerMessage(402, LogLevel.Information, "TLS certificate loaded from {CertFile}: subject {Subject}, expires {NotAfter:o}")]
    public static partial void CertificateLoaded(ILogger logger, string certFile, string subject, DateTime notAfter);

    [LoggerMessage(403, LogLevel.Error, "TLS certificate {CertFile} cannot be loaded: {Reason}. Keeping the previous certificate")]
    public static partial void CertificateRejected(ILogger logger, string certFile, string reason);

    [LoggerMessage(404, LogLevel.Error, "Re-checking the {What} file failed: {Reason}. Keeping what is loaded until the file changes again")]
    public static partial void FileCheckFailed(ILogger logger, string what, Exception exception, string reason);
}
