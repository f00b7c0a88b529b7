using System.Diagnostics.CodeAnalysis;

namespace SchedExt.Topology.Model;

/// <summary>The connection class between two devices, in nvidia-smi's vocabulary (<c>NV#</c>, <c>PIX</c>, <c>PXB</c>, <c>PHB</c>, <c>NODE</c>, <c>SYS</c>).</summary>
/// <remarks>
/// Stored as one byte whose numeric order is the quality order, so "at least as good as" is a byte
/// comparison: SYS(1) &lt; NODE(2) &lt; PHB(3) &lt; PXB(4) &lt; PIX(5) &lt; NV1(17) &lt; … &lt; NV200(216) &lt; X(255).
/// </remarks>
public readonly record struct Link
{
    private const byte NvBase = 16;

    /// <summary>The largest bonded NVLink count the encoding holds.</summary>
    public const int MaxNvLinks = 200;

    private Link(byte code) => Code = code;

    /// <summary>The quality-ordered encoding; 0 means "no value".</summary>
    public byte Code { get; }

    public static Link None => default;
    public static Link Sys => new(1);
    public static Link Node => new(2);
    public static Link Phb => new(3);
    public static Link Pxb => new(4);
    public static Link Pix => new(5);
    public static Link Self => new(255);

    /// <summary>A bonded set of <paramref name="links"/> NVLinks (1..200).</summary>
    public static Link NvLink(int links)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(links, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(links, MaxNvLinks);
        return new((byte)(NvBase + links));
    }

    internal static Link FromCode(byte code) => new(code);

    public bool IsNvLink => Code > NvBase && Code <= NvBase + MaxNvLinks;

    /// <summary>Bonded NVLink count, or 0 when this is not an NVLink connection.</summary>
    public int NvLinks => IsNvLink ? Code - NvBase : 0;

    /// <summary>True for a NIC that a GPU can reach without crossing a host bridge (PIX or PXB): what RDMA needs.</summary>
    public bool IsNearNic => Code == Pix.Code || Code == Pxb.Code;

    public override string ToString() => Code switch
    {
        0 => "?",
        1 => "SYS",
        2 => "NODE",
        3 => "PHB",
        4 => "PXB",
        5 => "PIX",
        255 => "X",
        _ => "NV" + NvLinks.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    /// <summary>Parses one nvidia-smi token. <c>SOC</c> (older drivers) is read as <c>SYS</c>; <c>X</c> is self.</summary>
    public static bool TryParse(ReadOnlySpan<char> token, out Link link)
    {
        token = token.Trim();
        link = token switch
        {
            "SYS" or "SOC" => Sys,
            "NODE" => Node,
            "PHB" => Phb,
            "PXB" => Pxb,
            "PIX" => Pix,
            "X" => Self,
            _ => None,
        };
        if (link.Code != 0)
        {
            return true;
        }

        if (token.Length > 2 && token[0] == 'N' && token[1] == 'V'
            && int.TryParse(token[2..], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n)
            && n is >= 1 and <= MaxNvLinks)
        {
            link = NvLink(n);
            return true;
        }

        return false;
    }

    /// <summary>Parses one token or throws <see cref="FormatException"/> naming it.</summary>
    public static Link Parse(string token) =>
        TryParse(token, out var link) ? link : throw new FormatException($"unknown link token '{token}' (expected NV<n>, PIX, PXB, PHB, NODE, SYS, SOC or X)");

    [SuppressMessage("Style", "IDE0072", Justification = "Every non-NVLink code is listed; NVLink is the default arm.")]
    internal static int Points(byte code) => code switch
    {
        // PERF: a switch on a byte compiles to a jump table; see LinkQuality for the scale.
        1 => 0,
        2 => 20,
        3 => 30,
        4 => 45,
        5 => 55,
        255 => 100,
        0 => 0,
        _ => Math.Min(100, 70 + (2 * (code - NvBase))),
    };
}
