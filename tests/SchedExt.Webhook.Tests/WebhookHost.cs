using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.JsonPatch.SystemTextJson;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using SchedExt.Testing;
using SchedExt.Webhook;

namespace SchedExt.Webhook.Tests;

/// <summary>An in-process webhook (WebApplicationFactory) with its own policy file in a temp folder and, optionally, a cluster snapshot.</summary>
public sealed class WebhookHost : IDisposable
{
    private readonly WebApplicationFactory<Program> _factory;
    private readonly string _dir;

    public WebhookHost(string policyYaml, string? snapshotFile = null, IReadOnlyDictionary<string, string>? settings = null, Action<IServiceCollection>? services = null)
    {
        _dir = Directory.CreateTempSubdirectory("schedext-webhook-").FullName;
        PolicyFile = Path.Combine(_dir, "policy.yaml");
        File.WriteAllText(PolicyFile, policyYaml);
        _factory = new WebApplicationFactory<Program>().WithWebHostBuilder(b =>
        {
            b.UseSetting("SchedExt:Webhook:PolicyFile", PolicyFile);
            b.UseSetting("SchedExt:Webhook:SnapshotFile", snapshotFile ?? string.Empty);
            b.UseSetting("SchedExt:Webhook:WatchCluster", "false");
            b.UseSetting("SchedExt:Webhook:TlsCertFile", Path.Combine(_dir, "absent.crt"));
            b.UseSetting("SchedExt:Webhook:TlsKeyFile", Path.Combine(_dir, "absent.key"));

            // Reloads are driven by the tests, never by the timer.
            b.UseSetting("SchedExt:Webhook:FileCheckInterval", "01:00:00");
            foreach (var (key, value) in settings ?? new Dictionary<string, string>())
            {
                b.UseSetting(key, value);
            }

            if (services is not null)
            {
                b.ConfigureTestServices(services);
            }
        });
        Client = _factory.CreateClient();
    }

    /// <summary>The shared test policy and cluster snapshot under tests/testdata/webhook.</summary>
    public static WebhookHost Default(string? policyYaml = null, IReadOnlyDictionary<string, string>? settings = null) =>
        new(policyYaml ?? TestData.ReadText("webhook", "policy.yaml"), TestData.PathOf("webhook", "cluster.yaml"), settings);

    /// <summary>
    /// The shared test policy in <paramref name="mode"/>, requesting devices by DRA claim when <paramref name="dra"/>, its
    /// <c>locked</c> namespace also enforcing <paramref name="lockedGpus"/> when set.
    /// </summary>
    public static string Policy(string mode = "enforce", int? lockedGpus = null, bool dra = false)
    {
        var yaml = TestData.ReadText("webhook", "policy.yaml").Replace("mode: enforce", "mode: " + mode, StringComparison.Ordinal);
        yaml = dra ? yaml.Replace("mode: extended-resource", "mode: dra", StringComparison.Ordinal) : yaml;
        return lockedGpus is { } gpus
            ? yaml.Replace("enforce: [machine]", "enforce: [machine, gpus]\n    gpus: " + gpus.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal)
            : yaml;
    }

    public string PolicyFile { get; }

    public HttpClient Client { get; }

    public IServiceProvider Services => _factory.Services;

    public async Task<Review> PostAsync(string body)
    {
        using var content = new StringContent(body, Encoding.UTF8, "application/json");
        using var response = await Client.PostAsync(new Uri("/mutate", UriKind.Relative), content);
        return new Review(response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    public void Dispose()
    {
        Client.Dispose();
        _factory.Dispose();
        Directory.Delete(_dir, recursive: true);
    }
}

/// <summary>One webhook answer, decoded: the response object and its JSON Patch (base64 decoded).</summary>
public sealed class Review(HttpStatusCode status, string body)
{
    public HttpStatusCode Status { get; } = status;

    public string Body { get; } = body;

    public JsonObject Response => JsonNode.Parse(Body)!["response"]!.AsObject();

    public bool Allowed => Response["allowed"]!.GetValue<bool>();

    /// <summary>The patch as JSON text, or null when the response has none.</summary>
    public string? PatchJson => Response["patch"] is { } p ? Encoding.UTF8.GetString(Convert.FromBase64String(p.GetValue<string>())) : null;

    public JsonArray Patch => PatchJson is { } json ? JsonNode.Parse(json)!.AsArray() : [];

    /// <summary>Applies the patch to <paramref name="pod"/> with Microsoft.AspNetCore.JsonPatch.SystemTextJson, as the API server would.</summary>
    public JsonNode Apply(JsonNode pod)
    {
        var target = pod.DeepClone();
        if (PatchJson is null)
        {
            return target;
        }

        var document = JsonSerializer.Deserialize<JsonPatchDocument>(PatchJson)!;
        document.ApplyTo(target);
        return target;
    }
}

/// <summary>Builders for AdmissionReview bodies.</summary>
public static class Reviews
{
    public static JsonObject Sample(string name = "pod-create-kubectl-apply.json") =>
        JsonNode.Parse(TestData.ReadText("admission-review", name))!.AsObject();

    /// <summary>The kubectl-apply sample with extra pod annotations.</summary>
    public static JsonObject OptedIn(params (string Key, string Value)[] annotations)
    {
        var review = Sample();
        var map = review["request"]!["object"]!["metadata"]!["annotations"]!.AsObject();
        foreach (var (key, value) in annotations)
        {
            map[key] = value;
        }

        return review;
    }

    public static JsonNode Pod(JsonObject review) => review["request"]!["object"]!;

    /// <summary>A review whose object is <paramref name="pod"/> (a new uid each time).</summary>
    public static JsonObject WithPod(JsonObject review, JsonNode pod)
    {
        var copy = review.DeepClone().AsObject();
        copy["request"]!["object"] = pod.DeepClone();
        copy["request"]!["uid"] = Guid.NewGuid().ToString();
        return copy;
    }
}
