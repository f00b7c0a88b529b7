using System.Globalization;

namespace SchedExt.Cli.Topo;

/// <summary>Durations as Kubernetes writes them: one or more <c>&lt;number&gt;&lt;unit&gt;</c> with units <c>h</c>, <c>m</c>, <c>s</c> (<c>90s</c>, <c>10m</c>, <c>1h30m</c>).</summary>
internal static class Duration
{
    private const long MaxSeconds = long.MaxValue / TimeSpan.TicksPerSecond;

    public static bool TryParse(ReadOnlySpan<char> text, out TimeSpan duration)
    {
        duration = TimeSpan.Zero;
        if (text.IsEmpty)
        {
            return false;
        }

        var total = 0L;
        while (!text.IsEmpty)
        {
            var digits = 0;
            while (digits < text.Length && char.IsAsciiDigit(text[digits]))
            {
                digits++;
            }

            if (digits == 0 || digits == text.Length || !long.TryParse(text[..digits], NumberStyles.None, CultureInfo.InvariantCulture, out var value))
            {
                return false;
            }

            var seconds = text[digits] switch
            {
                'h' => 3600L,
                'm' => 60L,
                's' => 1L,
                _ => 0L,
            };
            if (seconds == 0 || value > int.MaxValue)
            {
                return false;
            }

            // Beyond what a TimeSpan holds (e.g. 2147483647h): not a duration, rather than an overflow later.
            total += value * seconds;
            if (total > MaxSeconds)
            {
                return false;
            }

            text = text[(digits + 1)..];
        }

        duration = TimeSpan.FromSeconds(total);
        return true;
    }
}
