namespace SchedExt.Topology.Requests;

/// <summary>
/// Case-insensitive glob match with <c>*</c> (any run) and <c>?</c> (one character), where a space and <c>-</c> match
/// each other: nvidia-smi names a product <c>NVIDIA H100 80GB HBM3</c>, GPU Feature Discovery's label
/// <c>NVIDIA-H100-80GB-HBM3</c>, and one glob must find both. Allocation-free.
/// </summary>
public static class ProductGlob
{
    public static bool IsMatch(ReadOnlySpan<char> pattern, ReadOnlySpan<char> text)
    {
        // Iterative matcher with single back-tracking point: linear in practice, no recursion, no allocation.
        int p = 0, t = 0, star = -1, mark = 0;
        while (t < text.Length)
        {
            if (p < pattern.Length && (pattern[p] == '?' || Fold(pattern[p]) == Fold(text[t])))
            {
                p++;
                t++;
            }
            else if (p < pattern.Length && pattern[p] == '*')
            {
                star = p++;
                mark = t;
            }
            else if (star >= 0)
            {
                p = star + 1;
                t = ++mark;
            }
            else
            {
                return false;
            }
        }

        while (p < pattern.Length && pattern[p] == '*')
        {
            p++;
        }

        return p == pattern.Length;
    }

    private static char Fold(char c) => c == ' ' ? '-' : char.ToUpperInvariant(c);
}
