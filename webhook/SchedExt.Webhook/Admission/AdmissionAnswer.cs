using System.Text.Encodings.Web;
using System.Text.Json;
using SchedExt.Webhook.Diagnostics;

namespace SchedExt.Webhook.Admission;

/// <summary>What the webhook answers to one review: the admission.k8s.io/v1 AdmissionResponse fields it sets.</summary>
internal sealed class AdmissionAnswer
{
    public required string Uid { get; init; }

    public required ReviewOutcome Outcome { get; init; }

    public bool Allowed { get; init; } = true;

    /// <summary>The JSON Patch (UTF-8 JSON, not yet base64); empty for none.</summary>
    public ReadOnlyMemory<byte> Patch { get; init; }

    public IReadOnlyList<string>? Warnings { get; init; }

    public IReadOnlyList<KeyValuePair<string, string>>? AuditAnnotations { get; init; }

    /// <summary>Why the pod is denied; shown by kubectl.</summary>
    public string? DenyMessage { get; init; }

    /// <summary>Relaxed escaping: the answer goes to kube-apiserver, never into HTML, so quotes and non-ASCII stay readable in messages.</summary>
    public static JsonWriterOptions WriterOptions { get; } = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static AdmissionAnswer Skip(string uid) => new() { Uid = uid, Outcome = ReviewOutcome.Skipped };

    /// <summary>Writes the AdmissionReview envelope with this response.</summary>
    public void WriteTo(Utf8JsonWriter w)
    {
        ArgumentNullException.ThrowIfNull(w);
        w.WriteStartObject();
        w.WriteString("apiVersion"u8, "admission.k8s.io/v1"u8);
        w.WriteString("kind"u8, "AdmissionReview"u8);
        w.WriteStartObject("response"u8);
        w.WriteString("uid"u8, Uid);
        w.WriteBoolean("allowed"u8, Allowed);
        if (!Patch.IsEmpty)
        {
            w.WriteString("patchType"u8, "JSONPatch"u8);
            w.WriteBase64String("patch"u8, Patch.Span);
        }

        if (DenyMessage is not null)
        {
            // metav1.Status; kubectl prints "admission webhook ... denied the request: <message>".
            w.WriteStartObject("status"u8);
            w.WriteString("status"u8, "Failure"u8);
            w.WriteString("reason"u8, "Forbidden"u8);
            w.WriteNumber("code"u8, 403);
            w.WriteString("message"u8, DenyMessage);
            w.WriteEndObject();
        }

        if (Warnings is { Count: > 0 })
        {
            w.WriteStartArray("warnings"u8);
            foreach (var warning in Warnings)
            {
                w.WriteStringValue(warning);
            }

            w.WriteEndArray();
        }

        if (AuditAnnotations is { Count: > 0 })
        {
            w.WriteStartObject("auditAnnotations"u8);
            foreach (var (key, value) in AuditAnnotations)
            {
                w.WriteString(key, value);
            }

            w.WriteEndObject();
        }

        w.WriteEndObject();
        w.WriteEndObject();
    }
}
