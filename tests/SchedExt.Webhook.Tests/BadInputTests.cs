using System.Net;
using System.Text;
using System.Text.Json.Nodes;

namespace SchedExt.Webhook.Tests;

/// <summary>Input the webhook must refuse with a clear 4xx, or let through untouched — never crash or patch.</summary>
public sealed class BadInputTests : IDisposable
{
    private readonly WebhookHost _host = WebhookHost.Default();

    public void Dispose() => _host.Dispose();

    public static TheoryData<string, string, string> Malformed()
    {
        var sample = Reviews.OptedIn((Topology.Requests.SchedExtKeys.Gpus, "2")).ToJsonString();
        return new TheoryData<string, string, string>
        {
            { "truncated JSON", sample[..(sample.Length / 2)], "malformed AdmissionReview JSON" },
            { "not JSON", "hello", "malformed AdmissionReview JSON" },
            { "empty body", string.Empty, "malformed AdmissionReview JSON" },
            { "JSON array", "[]", "not a JSON object" },
            { "trailing garbage", sample + "}", "malformed AdmissionReview JSON" },
            { "v1beta1 apiVersion", sample.Replace("admission.k8s.io/v1", "admission.k8s.io/v1beta1", StringComparison.Ordinal), "apiVersion 'admission.k8s.io/v1beta1' is not supported" },
            { "lone surrogate in the uid", """{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u\ud800"}}""", "invalid JSON string" },
            { "lone surrogate in a pod annotation", sample.Replace("\"2\"", "\"2\\udc00\"", StringComparison.Ordinal), "invalid JSON string" },
            { "missing apiVersion", """{"kind":"AdmissionReview","request":{"uid":"u"}}""", "apiVersion is missing" },
            { "wrong kind", """{"apiVersion":"admission.k8s.io/v1","kind":"Pod","request":{"uid":"u"}}""", "kind 'Pod' is not AdmissionReview" },
            { "missing request", """{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"}""", "request is missing" },
            { "request not an object", """{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":"x"}""", "request is missing" },
            { "missing uid", """{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"kind":{"group":"","version":"v1","kind":"Pod"}}}""", "request.uid is missing" },
            {
                "Pod CREATE without object",
                """{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u","kind":{"group":"","version":"v1","kind":"Pod"},"operation":"CREATE","object":null}}""",
                "request.object is missing"
            },
        };
    }

    [Theory]
    [MemberData(nameof(Malformed))]
    public async Task Mutate_MalformedReview_Returns400WithReason(string name, string body, string reason)
    {
        var review = await _host.PostAsync(body);

        Assert.True(review.Status == HttpStatusCode.BadRequest, $"{name}: {review.Status} {review.Body}");
        Assert.Contains(reason, review.Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Mutate_InvalidUtf8InAPodString_Returns400()
    {
        // Raw bytes that are not UTF-8 (no escape involved) inside an annotation value.
        var json = Encoding.UTF8.GetBytes(Reviews.OptedIn((Topology.Requests.SchedExtKeys.Gpus, "2"), ("note", "AB")).ToJsonString());
        var at = json.AsSpan().IndexOf("\"AB\""u8) + 1;
        json[at] = 0xFF;
        using var content = new ByteArrayContent(json);
        content.Headers.ContentType = new("application/json");

        using var response = await _host.Client.PostAsync(new Uri("/mutate", UriKind.Relative), content);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("not valid UTF-8", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Mutate_BodyOverLimitWithContentLength_Returns413()
    {
        var body = Reviews.OptedIn(("padding", new string('x', 2 * 1024 * 1024))).ToJsonString();

        var review = await _host.PostAsync(body);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, review.Status);
        Assert.Contains("exceeds the limit of 1048576 bytes", review.Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Mutate_ChunkedBodyOverLimit_Returns413()
    {
        var body = Encoding.UTF8.GetBytes(Reviews.OptedIn(("padding", new string('x', 2 * 1024 * 1024))).ToJsonString());
        using var stream = new UnknownLengthStream(body);
        using var content = new StreamContent(stream);
        content.Headers.ContentType = new("application/json");

        using var response = await _host.Client.PostAsync(new Uri("/mutate", UriKind.Relative), content);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
    }

    public static TheoryData<string, string, string, string> Untouched() => new()
    {
        { "Deployment object", "apps", "Deployment", "CREATE" },
        { "Pod DELETE", string.Empty, "Pod", "DELETE" },
        { "Pod UPDATE", string.Empty, "Pod", "UPDATE" },
        { "Pod CONNECT", string.Empty, "Pod", "CONNECT" },
    };

    [Theory]
    [MemberData(nameof(Untouched))]
    public async Task Mutate_NotAPodCreate_AllowedUntouched(string name, string group, string kind, string operation)
    {
        var request = Reviews.OptedIn((Topology.Requests.SchedExtKeys.Gpus, "2"));
        request["request"]!["kind"] = new JsonObject { ["group"] = group, ["version"] = "v1", ["kind"] = kind };
        request["request"]!["operation"] = operation;

        var review = await _host.PostAsync(request.ToJsonString());

        Assert.True(review.Status == HttpStatusCode.OK, name);
        Assert.True(review.Allowed, name);
        Assert.Null(review.PatchJson);
        Assert.Equal(request["request"]!["uid"]!.GetValue<string>(), review.Response["uid"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("9007199256838144Gi")]
    [InlineData("8796093024256Ti")]
    public async Task Mutate_GpuMemoryOverflowingWhenScaled_AnsweredNot500(string memory)
    {
        // n × 1024 wrapped around a long to a small negative number, which passed the range check and then threw.
        var review = await _host.PostAsync(Reviews.OptedIn((Topology.Requests.SchedExtKeys.Gpus, "1"), (Topology.Requests.SchedExtKeys.GpuMemory, memory)).ToJsonString());

        Assert.True(review.Status == HttpStatusCode.OK, $"{review.Status} {review.Body}");
        Assert.Contains("gpu-memory", review.Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Mutate_PodSubresource_AllowedUntouched()
    {
        var request = Reviews.OptedIn((Topology.Requests.SchedExtKeys.Gpus, "2"));
        request["request"]!["subResource"] = "ephemeralcontainers";

        var review = await _host.PostAsync(request.ToJsonString());

        Assert.True(review.Allowed);
        Assert.Null(review.PatchJson);
    }

    [Fact]
    public async Task Mutate_DryRun_AnswersExactlyAsWithout()
    {
        var request = Reviews.OptedIn((Topology.Requests.SchedExtKeys.Profile, "train-8x-h100"));
        var dry = request.DeepClone().AsObject();
        dry["request"]!["dryRun"] = true;

        var normal = await _host.PostAsync(request.ToJsonString());
        var dryRun = await _host.PostAsync(dry.ToJsonString());

        Assert.NotNull(normal.PatchJson);
        Assert.Equal(normal.Body, dryRun.Body);
    }

    [Fact]
    public async Task Mutate_EscapedAnnotationKey_StillRecognisedAsOptIn()
    {
        // JSON allows "\/" for "/": the opt-in scan compares unescaped text.
        var body = Reviews.Sample().ToJsonString().Replace(
            "\"annotations\":{", "\"annotations\":{\"schedext.io\\/gpus\":\"1\",", StringComparison.Ordinal);

        var review = await _host.PostAsync(body);

        Assert.True(review.Allowed);
        Assert.NotNull(review.PatchJson);
    }

    /// <summary>A stream that hides its length, so the request goes without Content-Length.</summary>
    private sealed class UnknownLengthStream(byte[] data) : MemoryStream(data)
    {
        public override bool CanSeek => false;
    }
}
