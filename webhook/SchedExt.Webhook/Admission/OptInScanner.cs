using System.Text;
using System.Text.Json;
using SchedExt.Topology.Requests;

namespace SchedExt.Webhook.Admission;

/// <summary>Answers "did this pod opt in?" by walking <c>metadata.annotations</c> with a <see cref="Utf8JsonReader"/>: no DOM, no allocation.</summary>
internal static class OptInScanner
{
    // PERF: the opt-in keys encoded once as UTF-8 so ValueTextEquals compares bytes without transcoding. Never written.
    private static readonly byte[] ProfileKey = Encoding.UTF8.GetBytes(SchedExtKeys.Profile);
    private static readonly byte[] GpusKey = Encoding.UTF8.GetBytes(SchedExtKeys.Gpus);

    /// <summary>True when the pod object (a JSON object) carries <c>schedext.io/profile</c> or <c>schedext.io/gpus</c>.</summary>
    public static bool IsOptedIn(ReadOnlySpan<byte> pod)
    {
        var reader = new Utf8JsonReader(pod, new JsonReaderOptions { MaxDepth = 256 });
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            return false;
        }

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (!reader.ValueTextEquals("metadata"u8))
            {
                reader.Read();
                reader.Skip();
                continue;
            }

            reader.Read();
            if (reader.TokenType != JsonTokenType.StartObject)
            {
                return false;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isAnnotations = reader.ValueTextEquals("annotations"u8);
                reader.Read();
                if (isAnnotations && reader.TokenType == JsonTokenType.StartObject)
                {
                    return HasOptInKey(ref reader);
                }

                reader.Skip();
            }

            return false;
        }

        return false;
    }

    private static bool HasOptInKey(ref Utf8JsonReader reader)
    {
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals(ProfileKey) || reader.ValueTextEquals(GpusKey))
            {
                return true;
            }

            reader.Read();
            reader.Skip();
        }

        return false;
    }
}
