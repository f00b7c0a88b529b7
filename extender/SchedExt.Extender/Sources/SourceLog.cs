namespace SchedExt.Extender.Sources;

/// <summary>Every log message of the cluster sources, with stable event ids (2000–2099).</summary>
internal static partial class SourceLog
{
    [LoggerMessage(2001, LogLevel.Warning, "Node {Node}: topology annotation not used ({Problem}); treating its {Gpus} GPUs as unconnected")]
    public static partial void NodeTopologyProblem(this ILogger logger, string node, string problem, int gpus);

    [LoggerMessage(2002, LogLevel.Warning, "Node {Node}: allocatable {Resource} = '{Quantity}' is not a GPU count between 0 and 64; node ignored")]
    public static partial void NodeGpuCountInvalid(this ILogger logger, string node, string resource, string quantity);

    [LoggerMessage(2003, LogLevel.Warning, "Machine rule for label '{Label}' has kind '{Kind}', which is neither bare-metal nor vm; rule ignored")]
    public static partial void MachineRuleInvalid(this ILogger logger, string label, string kind);

    [LoggerMessage(2004, LogLevel.Warning, "Node {Node}: label schedext.io/machine = '{Value}' is neither bare-metal nor vm; falling back to the machine rules")]
    public static partial void NodeMachineLabelInvalid(this ILogger logger, string node, string value);

    [LoggerMessage(2010, LogLevel.Warning, "Pod {Namespace}/{Name} on {Node}: annotation schedext.io/assigned-gpus = '{Value}' is malformed; its GPUs are not counted")]
    public static partial void PodAssignedGpusMalformed(this ILogger logger, string @namespace, string name, string node, string value);

    [LoggerMessage(2020, LogLevel.Information, "Listed {Count} {Kind} at resourceVersion {ResourceVersion}")]
    public static partial void Listed(this ILogger logger, int count, string kind, string resourceVersion);

    [LoggerMessage(2021, LogLevel.Information, "Watch of {Kind} from resourceVersion {ResourceVersion} expired ({Reason}); listing again")]
    public static partial void WatchExpired(this ILogger logger, string kind, string resourceVersion, string reason);

    [LoggerMessage(2022, LogLevel.Warning, "Watch or list of {Kind} failed; retrying in {Delay}")]
    public static partial void SourceFailed(this ILogger logger, Exception exception, string kind, TimeSpan delay);

    [LoggerMessage(2023, LogLevel.Debug, "Watch of {Kind} closed at resourceVersion {ResourceVersion}; reconnecting")]
    public static partial void WatchClosed(this ILogger logger, string kind, string resourceVersion);

    [LoggerMessage(2024, LogLevel.Warning, "Watch of {Kind} reported an error ({Error}); reconnecting after {Delay}")]
    public static partial void WatchError(this ILogger logger, string kind, string error, TimeSpan delay);

    [LoggerMessage(2027, LogLevel.Warning, "Watch of {Kind} sent nothing for {Seconds}s, longer than its timeout (a connection that died silently?); reconnecting from resourceVersion {ResourceVersion}")]
    public static partial void WatchSilent(this ILogger logger, string kind, string resourceVersion, double seconds);

    [LoggerMessage(2025, LogLevel.Warning, "Watch of {Kind} delivered an unreadable event; listing again so nothing is missed")]
    public static partial void WatchUnreadable(this ILogger logger, Exception exception, string kind);

    [LoggerMessage(2026, LogLevel.Error, "Could not read {Kind} {Name}; it is skipped and the rest of the {Kind} are kept up to date")]
    public static partial void ObjectUnreadable(this ILogger logger, Exception exception, string kind, string name);

    [LoggerMessage(2030, LogLevel.Information, "Loaded {Nodes} GPU nodes and {Pods} GPU pods from {Path}")]
    public static partial void SnapshotLoaded(this ILogger logger, int nodes, int pods, string path);

    [LoggerMessage(2031, LogLevel.Error, "Snapshot file {Path} changed but cannot be used; keeping the last good state: {Error}")]
    public static partial void SnapshotReloadFailed(this ILogger logger, string path, string error);

    [LoggerMessage(2032, LogLevel.Debug, "Snapshot file {Path}: skipped {Count} objects that are neither Node nor Pod")]
    public static partial void SnapshotSkipped(this ILogger logger, string path, int count);

    [LoggerMessage(2040, LogLevel.Information, "Serving the built-in demo cluster: {Nodes} GPU nodes, {Pods} GPU pods")]
    public static partial void DemoLoaded(this ILogger logger, int nodes, int pods);
}
