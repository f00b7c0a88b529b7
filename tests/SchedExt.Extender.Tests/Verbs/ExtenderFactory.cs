using k8s;
using k8s.Models;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using SchedExt.Extender.State;

namespace SchedExt.Extender.Tests.Verbs;

/// <summary>An in-process extender over a snapshot file written from Node and Pod objects, for HTTP tests.</summary>
public sealed class ExtenderFactory : WebApplicationFactory<Program>
{
    private readonly string _snapshotFile;
    private readonly Dictionary<string, string?> _settings;
    private readonly Action<IServiceCollection>? _services;

    /// <param name="services">Replaces registrations after the app's own (e.g. a failing dependency).</param>
    internal ExtenderFactory(IEnumerable<object> objects, Dictionary<string, string?>? settings = null, Action<IServiceCollection>? services = null)
    {
        _services = services;
        _snapshotFile = Path.Combine(Path.GetTempPath(), $"schedext-test-{Guid.NewGuid():N}.yaml");
        File.WriteAllText(_snapshotFile, string.Concat(objects.Select(o => "---\n" + KubernetesYaml.Serialize(o).TrimEnd() + "\n")));
        _settings = settings ?? [];
        _settings["SchedExt:Extender:SnapshotFile"] = _snapshotFile;
    }

    internal ClusterState State => Services.GetRequiredService<ClusterState>();

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        foreach (var (key, value) in _settings)
        {
            builder.UseSetting(key, value);
        }

        builder.UseEnvironment("Development");
        if (_services is not null)
        {
            builder.ConfigureTestServices(_services);
        }
    }

    /// <summary>Posts <paramref name="json"/> to <paramref name="verb"/> once the snapshot is loaded.</summary>
    public async Task<(int Status, string Body)> PostAsync(string verb, string json)
    {
        using var client = CreateClient();
        await WaitSyncedAsync();
        using var content = new StringContent(json, System.Text.Encoding.UTF8, "application/json");
        using var response = await client.PostAsync("/" + verb, content);
        return ((int)response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    public async Task WaitSyncedAsync()
    {
        for (var i = 0; i < 200 && !State.Current.Synced; i++)
        {
            await Task.Delay(25);
        }

        Assert.True(State.Current.Synced, "snapshot file was not loaded");
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        File.Delete(_snapshotFile);
    }
}
