using System.Text.Json;

namespace SchedExt.Webhook.Admission;

/// <summary>The operation of an AdmissionReview request.</summary>
internal enum AdmissionOperation : byte
{
    Other,
    Create,
    Update,
    Delete,
    Connect,
}

/// <summary>A malformed AdmissionReview: answered with HTTP 400 and this message.</summary>
internal sealed class BadReviewException(string message) : Exception(message);

/// <summary>The parts of an admission.k8s.io/v1 AdmissionReview the webhook needs, read in one forward pass without building a DOM.</summary>
/// <remarks>
/// The pod itself is not parsed here: only its byte range in the body is kept, so a review the webhook does not act on
/// costs one token walk and a handful of small strings (uid, namespace, name).
/// </remarks>
internal sealed class ReviewEnvelope
{
    public required string Uid { get; init; }

    public required bool IsPod { get; init; }

    public required AdmissionOperation Operation { get; init; }

    public required string Namespace { get; init; }

    public required string Name { get; init; }

    public required bool DryRun { get; init; }

    /// <summary>Start of <c>request.object</c> in the body, or -1 when it is absent or null.</summary>
    public required int ObjectStart { get; init; }

    public required int ObjectLength { get; init; }

    public bool HasObject => ObjectStart >= 0;

    /// <summary>Reads the review; throws <see cref="BadReviewException"/> for anything that is not a well-formed admission.k8s.io/v1 AdmissionReview with a request and a uid.</summary>
    public static ReviewEnvelope Read(ReadOnlySpan<byte> body)
    {
        // The JSON reader does not check that strings are valid UTF-8 until one is decoded, deep in the pod: check once.
        if (!System.Text.Unicode.Utf8.IsValid(body))
        {
            throw new BadReviewException("the AdmissionReview is not valid UTF-8");
        }

        try
        {
            return ReadCore(body);
        }
        catch (JsonException ex)
        {
            throw new BadReviewException($"malformed AdmissionReview JSON at byte {ex.BytePositionInLine}: {FirstSentence(ex.Message)}");
        }
        catch (InvalidOperationException ex)
        {
            // The JSON reader's only InvalidOperationException here (every token's type is checked before it is read):
            // a string it accepts but cannot decode, such as a lone UTF-16 surrogate escape ("\ud800").
            throw new BadReviewException($"invalid JSON string in the AdmissionReview: {FirstSentence(ex.Message)}");
        }
    }

    /// <summary>
    /// Skips the object at the reader like <see cref="Utf8JsonReader.Skip"/>, decoding each escaped string and key in it
    /// on the way: one that cannot be decoded is found here, as bad input, instead of later while the pod is read.
    /// </summary>
    private static void SkipDecodingEscapes(ref Utf8JsonReader reader)
    {
        var depth = reader.CurrentDepth;
        while (reader.Read() && !(reader.CurrentDepth == depth && reader.TokenType is JsonTokenType.EndObject or JsonTokenType.EndArray))
        {
            if (reader.TokenType is JsonTokenType.String or JsonTokenType.PropertyName && reader.ValueIsEscaped)
            {
                _ = reader.GetString();
            }
        }
    }

    private static ReviewEnvelope ReadCore(ReadOnlySpan<byte> body)
    {
        var reader = new Utf8JsonReader(body, new JsonReaderOptions { MaxDepth = 256 });
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            throw new BadReviewException("the body is not a JSON object (expected an admission.k8s.io/v1 AdmissionReview)");
        }

        string? apiVersion = null, kind = null;
        var apiVersionOk = false;
        var kindOk = false;
        RequestFields? request = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("apiVersion"u8))
            {
                reader.Read();
                apiVersionOk = reader.TokenType == JsonTokenType.String && reader.ValueTextEquals("admission.k8s.io/v1"u8);
                apiVersion = apiVersionOk ? null : TokenText(ref reader);
            }
            else if (reader.ValueTextEquals("kind"u8))
            {
                reader.Read();
                kindOk = reader.TokenType == JsonTokenType.String && reader.ValueTextEquals("AdmissionReview"u8);
                kind = kindOk ? null : TokenText(ref reader);
            }
            else if (reader.ValueTextEquals("request"u8))
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.StartObject)
                {
                    request = ReadRequest(ref reader);
                }
                else
                {
                    reader.Skip();
                }
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }

        // Drain to the end so trailing garbage and truncation are both caught.
        while (reader.Read())
        {
        }

        if (!apiVersionOk)
        {
            throw new BadReviewException(apiVersion is null
                ? "apiVersion is missing (expected admission.k8s.io/v1)"
                : $"apiVersion '{apiVersion}' is not supported (expected admission.k8s.io/v1; set admissionReviewVersions: [\"v1\"])");
        }

        if (!kindOk)
        {
            throw new BadReviewException(kind is null ? "kind is missing (expected AdmissionReview)" : $"kind '{kind}' is not AdmissionReview");
        }

        if (request is null)
        {
            throw new BadReviewException("request is missing or not an object");
        }

        if (string.IsNullOrEmpty(request.Uid))
        {
            throw new BadReviewException("request.uid is missing");
        }

        return new ReviewEnvelope
        {
            Uid = request.Uid,
            IsPod = request.KindIsPod && !request.HasSubResource,
            Operation = request.Operation,
            Namespace = request.Namespace ?? string.Empty,
            Name = request.Name ?? string.Empty,
            DryRun = request.DryRun,
            ObjectStart = request.ObjectStart,
            ObjectLength = request.ObjectLength,
        };
    }

    private static RequestFields ReadRequest(ref Utf8JsonReader reader)
    {
        var f = new RequestFields();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("uid"u8))
            {
                reader.Read();
                f.Uid = reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
            }
            else if (reader.ValueTextEquals("kind"u8))
            {
                reader.Read();
                f.KindIsPod = reader.TokenType == JsonTokenType.StartObject && ReadKindIsPod(ref reader);
                if (reader.TokenType != JsonTokenType.EndObject)
                {
                    reader.Skip();
                }
            }
            else if (reader.ValueTextEquals("subResource"u8))
            {
                reader.Read();
                f.HasSubResource = reader.TokenType == JsonTokenType.String && reader.ValueSpan.Length > 0;
            }
            else if (reader.ValueTextEquals("operation"u8))
            {
                reader.Read();
                f.Operation = reader.TokenType != JsonTokenType.String ? AdmissionOperation.Other
                    : reader.ValueTextEquals("CREATE"u8) ? AdmissionOperation.Create
                    : reader.ValueTextEquals("UPDATE"u8) ? AdmissionOperation.Update
                    : reader.ValueTextEquals("DELETE"u8) ? AdmissionOperation.Delete
                    : reader.ValueTextEquals("CONNECT"u8) ? AdmissionOperation.Connect
                    : AdmissionOperation.Other;
            }
            else if (reader.ValueTextEquals("namespace"u8))
            {
                reader.Read();
                f.Namespace = reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
            }
            else if (reader.ValueTextEquals("name"u8))
            {
                reader.Read();
                f.Name = reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
            }
            else if (reader.ValueTextEquals("dryRun"u8))
            {
                reader.Read();
                f.DryRun = reader.TokenType == JsonTokenType.True;
            }
            else if (reader.ValueTextEquals("object"u8))
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.StartObject)
                {
                    f.ObjectStart = checked((int)reader.TokenStartIndex);
                    SkipDecodingEscapes(ref reader);
                    f.ObjectLength = checked((int)reader.BytesConsumed) - f.ObjectStart;
                }
                else
                {
                    reader.Skip();
                }
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }

        return f;
    }

    // request.kind is {"group":"","version":"v1","kind":"Pod"}; the core group is the empty string.
    private static bool ReadKindIsPod(ref Utf8JsonReader reader)
    {
        bool groupCore = false, kindPod = false;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("group"u8))
            {
                reader.Read();
                groupCore = reader.TokenType == JsonTokenType.String && reader.ValueSpan.Length == 0;
            }
            else if (reader.ValueTextEquals("kind"u8))
            {
                reader.Read();
                kindPod = reader.TokenType == JsonTokenType.String && reader.ValueTextEquals("Pod"u8);
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }

        return groupCore && kindPod;
    }

    private static string TokenText(ref Utf8JsonReader reader)
    {
        if (reader.TokenType == JsonTokenType.String)
        {
            var s = reader.GetString() ?? string.Empty;
            return s.Length > 64 ? s[..64] + "…" : s;
        }

        reader.Skip();
        return "(not a string)";
    }

    private static string FirstSentence(string message)
    {
        var dot = message.IndexOf(". ", StringComparison.Ordinal);
        return dot > 0 ? message[..dot] : message;
    }

    private sealed class RequestFields
    {
        public string? Uid { get; set; }

        public bool KindIsPod { get; set; }

        public bool HasSubResource { get; set; }

        public AdmissionOperation Operation { get; set; }

        public string? Namespace { get; set; }

        public string? Name { get; set; }

        public bool DryRun { get; set; }

        public int ObjectStart { get; set; } = -1;

        public int ObjectLength { get; set; }
    }
}
