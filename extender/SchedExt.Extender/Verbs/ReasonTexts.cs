using System.Text;
using System.Text.Encodings.Web;
using SchedExt.Topology.Requests;
using SchedExt.Topology.Search;

namespace SchedExt.Extender.Verbs;

/// <summary>
/// The reasons of one filter request as escaped UTF-8, each formatted once. Within a request the pod's request is
/// fixed, so a reason's text depends only on the verdict's reason, count and machine kind: thousands of failing nodes
/// share a handful of texts. PERF: formatting, transcoding and escaping per failing node was a third of filter's time.
/// </summary>
internal sealed class ReasonTexts
{
    private const int Reasons = 16;
    private const int MaxHave = 64;
    private const int Machines = 4;
    private const int Slots = Reasons * (MaxHave + 1) * Machines;

    // Slot -> (stamp, start, length); a slot is valid for the request whose stamp it carries, so Clear is O(1).
    private readonly int[] _stamp = new int[Slots];
    private readonly int[] _start = new int[Slots];
    private readonly int[] _length = new int[Slots];
    private byte[] _bytes = new byte[4096];
    private int _used;
    private int _current = 1;

    /// <summary>Forgets every text (a new request, hence a new pod request).</summary>
    public void Clear()
    {
        _used = 0;
        if (++_current == int.MaxValue)
        {
            Array.Clear(_stamp);
            _current = 1;
        }
    }

    /// <summary>The escaped one-line reason of the infeasible <paramref name="verdict"/>.</summary>
    public ReadOnlySpan<byte> Get(in NodeVerdict verdict)
    {
        var machine = (int)verdict.NodeMachine;
        if ((uint)verdict.Have > MaxHave || (uint)machine >= Machines || (int)verdict.Reason >= Reasons)
        {
            return Format(verdict);
        }

        var slot = ((((int)verdict.Reason * (MaxHave + 1)) + verdict.Have) * Machines) + machine;
        if (_stamp[slot] != _current)
        {
            var text = Format(verdict);
            _start[slot] = _used - text.Length;
            _length[slot] = text.Length;
            _stamp[slot] = _current;
        }

        return _bytes.AsSpan(_start[slot], _length[slot]);
    }

    /// <summary>Formats, transcodes and escapes a reason into the byte store, returning it.</summary>
    private ReadOnlySpan<byte> Format(in NodeVerdict verdict)
    {
        Span<char> chars = stackalloc char[512];
        ReadOnlySpan<char> text = verdict.TryFormatReason(chars, out var written) ? chars[..written] : verdict.ReasonText();
        Span<byte> utf8 = text.Length <= 512 ? stackalloc byte[512 * 3] : new byte[Encoding.UTF8.GetMaxByteCount(text.Length)];
        var length = Encoding.UTF8.GetBytes(text, utf8);

        // Escaped text is at most 6 bytes (\uXXXX) per input byte.
        var needed = _used + (length * 6);
        if (needed > _bytes.Length)
        {
            Array.Resize(ref _bytes, Math.Max(needed, _bytes.Length * 2));
        }

        _ = JavaScriptEncoder.UnsafeRelaxedJsonEscaping.EncodeUtf8(utf8[..length], _bytes.AsSpan(_used), out _, out var escaped);
        var start = _used;
        _used += escaped;
        return _bytes.AsSpan(start, escaped);
    }
}
