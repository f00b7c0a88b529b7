using System.Numerics;
using System.Text;
using SchedExt.Topology.Model;

namespace SchedExt.Extender.State;

/// <summary>The text form of <c>schedext.io/assigned-gpus</c>: ascending GPU indices joined by commas, e.g. <c>0,1,2,3</c>.</summary>
/// <remarks>
/// The annotation is the source of truth a restarted extender rebuilds every allocation from, so reading is strict:
/// only decimal indices 0–63 without signs, spaces, leading zeros, empty items or repeats. Anything else is rejected
/// rather than guessed, because a wrong guess would give a GPU to two pods.
/// </remarks>
internal static class AssignedGpus
{
    /// <summary>The canonical text of <paramref name="mask"/> (ascending indices); empty for an empty mask.</summary>
    public static string Format(ulong mask)
    {
        if (mask == 0)
        {
            return string.Empty;
        }

        var text = new StringBuilder(BitOperations.PopCount(mask) * 3);
        while (mask != 0)
        {
            if (text.Length > 0)
            {
                text.Append(',');
            }

            text.Append(BitOperations.TrailingZeroCount(mask));
            mask &= mask - 1;
        }

        return text.ToString();
    }

    /// <summary>Reads the annotation value; false (and a zero mask) when it is empty or malformed in any way.</summary>
    public static bool TryParse(ReadOnlySpan<char> value, out ulong mask)
    {
        mask = 0;
        if (value.IsEmpty)
        {
            return false;
        }

        foreach (var range in value.Split(','))
        {
            var item = value[range];
            if (!TryParseIndex(item, out var index) || (mask & (1UL << index)) != 0)
            {
                mask = 0;
                return false;
            }

            mask |= 1UL << index;
        }

        return true;
    }

    private static bool TryParseIndex(ReadOnlySpan<char> item, out int index)
    {
        index = 0;
        if (item.IsEmpty || item.Length > 2 || (item.Length == 2 && item[0] == '0'))
        {
            return false;
        }

        foreach (var c in item)
        {
            if (!char.IsAsciiDigit(c))
            {
                return false;
            }

            index = (index * 10) + (c - '0');
        }

        return index < NodeTopology.MaxGpus;
    }
}
