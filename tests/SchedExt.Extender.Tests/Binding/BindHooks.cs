using SchedExt.Extender.Binding;

namespace SchedExt.Extender.Tests.Binding;

/// <summary>Code run once, just before or just after a replica's next Binding call (each hook is cleared when taken).</summary>
internal sealed class BindHooks
{
    private Func<Task>? _beforeBind;
    private Func<Task>? _afterBind;

    public Func<Task>? BeforeBind
    {
        set => Volatile.Write(ref _beforeBind, value);
    }

    public Func<Task>? AfterBind
    {
        set => Volatile.Write(ref _afterBind, value);
    }

    public Func<Task>? TakeBeforeBind() => Interlocked.Exchange(ref _beforeBind, null);

    public Func<Task>? TakeAfterBind() => Interlocked.Exchange(ref _afterBind, null);
}

/// <summary>The real API client with <see cref="BindHooks"/> around its Binding calls.</summary>
internal sealed class HookedClusterApi(IClusterApi inner, BindHooks hooks) : IClusterApi
{
    public Task<PodRecord?> GetPodAsync(string ns, string name, CancellationToken cancellationToken) => inner.GetPodAsync(ns, name, cancellationToken);

    public async Task BindAsync(string ns, string name, string uid, string node, IReadOnlyDictionary<string, string>? annotations, CancellationToken cancellationToken)
    {
        if (hooks.TakeBeforeBind() is { } before)
        {
            await before();
        }

        try
        {
            await inner.BindAsync(ns, name, uid, node, annotations, cancellationToken);
        }
        finally
        {
            if (hooks.TakeAfterBind() is { } after)
            {
                await after();
            }
        }
    }

    public Task RecordEventAsync(string ns, string name, string uid, string type, string reason, string message, CancellationToken cancellationToken) =>
        inner.RecordEventAsync(ns, name, uid, type, reason, message, cancellationToken);

    public Task<ClaimOutcome> TryClaimAsync(string claimName, ClaimHolder holder, CancellationToken cancellationToken) => inner.TryClaimAsync(claimName, holder, cancellationToken);

    public Task ReleaseClaimAsync(string claimName, string? resourceVersion, CancellationToken cancellationToken) => inner.ReleaseClaimAsync(claimName, resourceVersion, cancellationToken);

    public Task<IReadOnlyList<ClaimRecord>> ListClaimsAsync(CancellationToken cancellationToken) => inner.ListClaimsAsync(cancellationToken);
}
