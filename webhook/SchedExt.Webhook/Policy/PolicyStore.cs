using Microsoft.Extensions.Options;
using SchedExt.Webhook.Diagnostics;
using SchedExt.Webhook.Hosting;

namespace SchedExt.Webhook.Policy;

/// <summary>Holds the policy in force. Loads the file at start and whenever its content changes; a bad new file is logged and the last good policy stays.</summary>
internal sealed class PolicyStore : IWatchedFile
{
    private readonly string _path;
    private readonly ILogger<PolicyStore> _logger;
    private readonly WebhookMetrics _metrics;
    private readonly Lock _reloadLock = new();
    private volatile WebhookPolicy? _current;
    private byte[]? _lastContent;
    private string? _unreadable;

    public PolicyStore(IOptions<WebhookOptions> options, ILogger<PolicyStore> logger, WebhookMetrics metrics)
    {
        ArgumentNullException.ThrowIfNull(options);
        _path = options.Value.PolicyFile;
        _logger = logger;
        _metrics = metrics;
        Reload();
    }

    /// <summary>The policy in force, or null when no good policy was ever loaded (then every pod is allowed untouched).</summary>
    public WebhookPolicy? Current => _current;

    /// <summary>Re-reads the file if its bytes changed. Returns the outcome; the policy in force changes only on <see cref="ReloadOutcome.Loaded"/>.</summary>
    public ReloadOutcome Reload()
    {
        lock (_reloadLock)
        {
            byte[] content;
            try
            {
                content = File.ReadAllBytes(_path);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // Reported once, not on every check: a missing file stays missing for many checks. A different reason
                // (missing, then unreadable) is a new failure. Forgetting the content makes the next readable file load,
                // whatever it holds, even the bytes in force before.
                if (ex.Message != _unreadable)
                {
                    _unreadable = ex.Message;
                    Log.PolicyUnreadable(_logger, _path, ex.Message);
                    _metrics.PolicyReload(ok: false);
                }

                _lastContent = null;
                return ReloadOutcome.Rejected;
            }

            _unreadable = null;
            if (_lastContent is not null && content.AsSpan().SequenceEqual(_lastContent))
            {
                return ReloadOutcome.Unchanged;
            }

            _lastContent = content;
            try
            {
                // A file saved with a UTF-8 byte order mark (some editors, Windows tools) is the same policy.
                var text = System.Text.Encoding.UTF8.GetString(content.AsSpan(content.AsSpan().StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]) ? 3 : 0));
                var policy = PolicyCompiler.Compile(text);
                _current = policy;
                Log.PolicyLoaded(_logger, _path, policy.Version, policy.Mode, policy.Profiles.Count);
                _metrics.PolicyReload(ok: true);
                return ReloadOutcome.Loaded;
            }
            catch (PolicyException ex)
            {
                Log.PolicyRejected(_logger, _path, ex.Message, _current?.Version ?? "none");
                _metrics.PolicyReload(ok: false);
                return ReloadOutcome.Rejected;
            }
        }
    }

    string IWatchedFile.FileDescription => "policy";

    void IWatchedFile.ReloadIfChanged() => _ = Reload();
}

/// <summary>What a policy reload did.</summary>
internal enum ReloadOutcome
{
    Unchanged,
    Loaded,
    Rejected,
}
