namespace SchedExt.Webhook.Hosting;

/// <summary>Options section <c>SchedExt:Webhook</c> (environment: <c>SchedExt__Webhook__…</c>).</summary>
internal sealed class WebhookOptions
{
    public const string Section = "SchedExt:Webhook";

    /// <summary>The policy YAML, usually a mounted ConfigMap; re-read when it changes.</summary>
    public string PolicyFile { get; set; } = "/etc/schedext/policy.yaml";

    /// <summary>PEM certificate (chain) for HTTPS; re-read when it changes.</summary>
    public string TlsCertFile { get; set; } = "/etc/schedext/tls/tls.crt";

    /// <summary>PEM private key for HTTPS; re-read when it changes.</summary>
    public string TlsKeyFile { get; set; } = "/etc/schedext/tls/tls.key";

    /// <summary>Optional cluster snapshot (List or multi-document YAML/JSON of Nodes, Pods, Namespaces) used instead of watching the API.</summary>
    public string? SnapshotFile { get; set; }

    /// <summary>Watch Nodes and Namespaces through the Kubernetes API when no snapshot file is set (in-cluster config, else KUBECONFIG).</summary>
    public bool WatchCluster { get; set; } = true;

    /// <summary>Largest AdmissionReview body accepted; larger gets 413.</summary>
    public long MaxRequestBodyBytes { get; set; } = 1024 * 1024;

    public int HttpsPort { get; set; } = 8443;

    public int MetricsPort { get; set; } = 9090;

    /// <summary>IP address to listen on; empty for every interface (IPv6 and IPv4, or IPv4 alone where IPv6 is disabled).</summary>
    public string? ListenAddress { get; set; }

    /// <summary>
    /// How long a Node or Namespace watch may go without an event or bookmark before it is taken for dead (a connection
    /// dropped without FIN or RST) and listed and watched again. The API server sends bookmarks about once a minute.
    /// </summary>
    public TimeSpan WatchSilence { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How often the policy, certificate and snapshot files are checked for change.</summary>
    public TimeSpan FileCheckInterval { get; set; } = TimeSpan.FromSeconds(5);
}
