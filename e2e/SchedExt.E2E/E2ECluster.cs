using k8s;

namespace SchedExt.E2E;

/// <summary>The cluster every e2e test runs against, connected once per run: the one named by <c>KUBECONFIG</c>, or the pod's own.</summary>
/// <remarks>
/// When neither is there, the API server does not answer <c>/version</c> within <see cref="ProbeTimeout"/>, or SchedExt is
/// not deployed there (no deployment <c>schedext-system/schedext-scheduler</c>),
/// <see cref="SkipReason"/> says why in one line and every test reports Skipped. <c>make e2e</c> sets
/// <c>SCHEDEXT_E2E_REQUIRE_CLUSTER=1</c>, which turns that skip into a failure.
/// </remarks>
public sealed class E2ECluster : IAsyncLifetime
{
    /// <summary>
    /// How long the API server gets to answer before the run counts as "no cluster": short when a missing cluster only
    /// means skipping, longer when one is required (a cold process's first TLS handshake and calls must not fail the run).
    /// </summary>
    public static TimeSpan ProbeTimeout => ClusterRequired ? TimeSpan.FromSeconds(15) : TimeSpan.FromSeconds(3);

    private const string SchedExtNamespace = "schedext-system";
    private const string SchedulerDeployment = "schedext-scheduler";

    private Kubernetes? _client;

    /// <summary>The connected client; only valid when <see cref="SkipReason"/> is null.</summary>
    public IKubernetes Client => _client ?? throw new InvalidOperationException(SkipReason);

    /// <summary>Why no test can run, in one line; null when the cluster answered.</summary>
    public string? SkipReason { get; private set; }

    /// <summary>The API server's version, e.g. <c>v1.32.2</c>.</summary>
    public string ServerVersion { get; private set; } = string.Empty;

    public static bool ClusterRequired => Environment.GetEnvironmentVariable("SCHEDEXT_E2E_REQUIRE_CLUSTER") == "1";

    public async Task InitializeAsync()
    {
        KubernetesClientConfiguration config;
        var kubeconfig = Environment.GetEnvironmentVariable("KUBECONFIG");
        try
        {
            if (!string.IsNullOrWhiteSpace(kubeconfig))
            {
                if (!kubeconfig.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Any(File.Exists))
                {
                    SkipReason = $"no Kubernetes cluster: KUBECONFIG={kubeconfig} names no existing file";
                    return;
                }

                // Reads KUBECONFIG itself, merging a path list the way kubectl does.
                config = KubernetesClientConfiguration.BuildDefaultConfig();
            }
            else if (KubernetesClientConfiguration.IsInCluster())
            {
                config = KubernetesClientConfiguration.InClusterConfig();
            }
            else
            {
                SkipReason = "no Kubernetes cluster: KUBECONFIG is not set and this is not a pod (make e2e runs one on kind)";
                return;
            }
        }
        catch (Exception e) when (e is k8s.Exceptions.KubeConfigException or IOException or UnauthorizedAccessException or FormatException)
        {
            SkipReason = $"no Kubernetes cluster: cannot load KUBECONFIG={kubeconfig}: {e.Message}";
            return;
        }

        // The client's own timeout is long (100 s); the probe decides reachability on its own clock.
        var client = new Kubernetes(config);
        using var probe = new CancellationTokenSource(ProbeTimeout);
        try
        {
            var version = await client.Version.GetCodeAsync(probe.Token).ConfigureAwait(false);
            ServerVersion = version.GitVersion;

            // The tests check a deployment; without one they would only fail, after creating fake nodes for nothing.
            await client.AppsV1.ReadNamespacedDeploymentAsync(SchedulerDeployment, SchedExtNamespace, cancellationToken: probe.Token).ConfigureAwait(false);
            _client = client;
        }
        catch (k8s.Autorest.HttpOperationException e) when (e.Response.StatusCode == System.Net.HttpStatusCode.NotFound)
        {
            client.Dispose();
            SkipReason = $"SchedExt is not deployed in the cluster at {config.Host} (no deployment {SchedExtNamespace}/{SchedulerDeployment}; run make deploy)";
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException or k8s.Autorest.HttpOperationException or System.Security.Authentication.AuthenticationException)
        {
            client.Dispose();
            var why = e is OperationCanceledException ? $"no answer within {ProbeTimeout.TotalSeconds:0} s" : e.Message.ReplaceLineEndings(" ");
            SkipReason = $"no Kubernetes cluster: {config.Host} is not reachable ({why})";
        }
    }

    public Task DisposeAsync()
    {
        _client?.Dispose();
        return Task.CompletedTask;
    }

    /// <summary>Skips the calling test (or fails it under <c>make e2e</c>) when no cluster answered.</summary>
    public void RequireCluster()
    {
        if (SkipReason is not null)
        {
            SkipUnlessRequired(SkipReason);
        }
    }

    /// <summary>Skips the calling test with <paramref name="reason"/>, or fails it under <c>make e2e</c>, where every test must run.</summary>
    public static void SkipUnlessRequired(string reason)
    {
        if (ClusterRequired)
        {
            Assert.Fail(reason + " (SCHEDEXT_E2E_REQUIRE_CLUSTER=1)");
        }

        Skip.If(true, reason);
    }
}

/// <summary>All cluster tests share one connection and run one after another: they compete for the one scheduler.</summary>
[CollectionDefinition(Name)]
public sealed class ClusterFixtureDefinition : ICollectionFixture<E2ECluster>
{
    public const string Name = "cluster";
}
