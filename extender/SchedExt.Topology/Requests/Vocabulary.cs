namespace SchedExt.Topology.Requests;

/// <summary>The weakest link allowed between any two GPUs of a set (<c>schedext.io/interconnect</c>). Ordered weakest to strongest.</summary>
public enum Interconnect : byte
{
    /// <summary>Any link, including SYS (across sockets).</summary>
    Any = 0,

    /// <summary>NODE, PHB or better between every pair: GPUs of one NUMA node, or joined by NVLink across sockets.</summary>
    Numa = 1,

    /// <summary>Under PCIe switches without crossing the host bridge: PXB, PIX or NVLink.</summary>
    PcieSwitch = 2,

    /// <summary>Every pair joined by NVLink (directly or through NVSwitch).</summary>
    NvLink = 3,
}

/// <summary>Whether each GPU of the set needs an RDMA NIC at PIX/PXB distance (<c>schedext.io/rdma</c>).</summary>
public enum NicNeed : byte
{
    None = 0,
    Preferred = 1,
    Required = 2,
}

/// <summary>What a node is: bare metal or a virtual machine (<c>schedext.io/machine</c> node label).</summary>
public enum MachineKind : byte
{
    Unknown = 0,
    BareMetal = 1,
    Vm = 2,
}

/// <summary>What a pod asks of the machine kind (<c>schedext.io/machine</c> pod annotation).</summary>
public enum MachinePolicy : byte
{
    Any = 0,
    RequireBareMetal = 1,
    RequireVm = 2,
    PreferBareMetal = 3,
    PreferVm = 4,
}

/// <summary>The annotation and label keys of SchedExt's contract, and the parsing of their values.</summary>
public static class SchedExtKeys
{
    public const string Prefix = "schedext.io/";
    public const string Topology = "schedext.io/topology";
    public const string Machine = "schedext.io/machine";
    public const string Interconnect = "schedext.io/interconnect";
    public const string Rdma = "schedext.io/rdma";
    public const string GpuProduct = "schedext.io/gpu-product";
    public const string GpuMemory = "schedext.io/gpu-memory";
    public const string PlacementGroup = "schedext.io/placement-group";
    public const string Profile = "schedext.io/profile";
    public const string Gpus = "schedext.io/gpus";
    public const string AssignedGpus = "schedext.io/assigned-gpus";
    public const string AssignedUuids = "schedext.io/assigned-gpu-uuids";
    public const string AssignedNuma = "schedext.io/assigned-numa";
    public const string AssignedNics = "schedext.io/assigned-nics";
    public const string PlacementScore = "schedext.io/placement-score";
    public const string GpuResource = "nvidia.com/gpu";
    public const string GpuProductLabel = "nvidia.com/gpu.product";

    /// <summary>GPU Feature Discovery's per-GPU memory label, in MiB (e.g. <c>81559</c>).</summary>
    public const string GpuMemoryLabel = "nvidia.com/gpu.memory";

    /// <summary>
    /// The memory of <see cref="GpuMemoryLabel"/>: a positive whole number of MiB, else 0 (unknown). The label is
    /// written by another component; a value this cannot read is treated as absent, never as an error.
    /// </summary>
    public static int ParseGpuMemoryLabel(string? value) =>
        int.TryParse(value, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var mib) && mib > 0 ? mib : 0;

    public static bool TryParseInterconnect(ReadOnlySpan<char> value, out Interconnect interconnect)
    {
        interconnect = Requests.Interconnect.Any;
        switch (value.Trim())
        {
            case "nvlink": interconnect = Requests.Interconnect.NvLink; return true;
            case "pcie-switch": interconnect = Requests.Interconnect.PcieSwitch; return true;
            case "numa": interconnect = Requests.Interconnect.Numa; return true;
            case "any" or "": return true;
            default: return false;
        }
    }

    public static string Format(Interconnect value) => value switch
    {
        Requests.Interconnect.NvLink => "nvlink",
        Requests.Interconnect.PcieSwitch => "pcie-switch",
        Requests.Interconnect.Numa => "numa",
        _ => "any",
    };

    public static bool TryParseNicNeed(ReadOnlySpan<char> value, out NicNeed need)
    {
        need = NicNeed.None;
        switch (value.Trim())
        {
            case "required": need = NicNeed.Required; return true;
            case "preferred": need = NicNeed.Preferred; return true;
            case "none" or "": return true;
            default: return false;
        }
    }

    public static string Format(NicNeed value) => value switch
    {
        NicNeed.Required => "required",
        NicNeed.Preferred => "preferred",
        _ => "none",
    };

    public static bool TryParseMachinePolicy(ReadOnlySpan<char> value, out MachinePolicy policy)
    {
        policy = MachinePolicy.Any;
        switch (value.Trim())
        {
            case "bare-metal": policy = MachinePolicy.RequireBareMetal; return true;
            case "vm": policy = MachinePolicy.RequireVm; return true;
            case "preferred-bare-metal": policy = MachinePolicy.PreferBareMetal; return true;
            case "preferred-vm": policy = MachinePolicy.PreferVm; return true;
            case "any" or "": return true;
            default: return false;
        }
    }

    public static string Format(MachinePolicy value) => value switch
    {
        MachinePolicy.RequireBareMetal => "bare-metal",
        MachinePolicy.RequireVm => "vm",
        MachinePolicy.PreferBareMetal => "preferred-bare-metal",
        MachinePolicy.PreferVm => "preferred-vm",
        _ => "any",
    };

    public static bool TryParseMachineKind(ReadOnlySpan<char> value, out MachineKind kind)
    {
        kind = MachineKind.Unknown;
        switch (value.Trim())
        {
            case "bare-metal": kind = MachineKind.BareMetal; return true;
            case "vm": kind = MachineKind.Vm; return true;
            default: return false;
        }
    }

    public static string Format(MachineKind value) => value switch
    {
        MachineKind.BareMetal => "bare-metal",
        MachineKind.Vm => "vm",
        _ => "unknown",
    };

    /// <summary>Parses a memory quantity for <c>schedext.io/gpu-memory</c>: a plain MiB count or a Kubernetes-style binary quantity (<c>80Gi</c>, <c>40960Mi</c>).</summary>
    public static bool TryParseMemoryMiB(ReadOnlySpan<char> value, out int mib)
    {
        mib = 0;
        value = value.Trim();
        long scale = 1;
        if (value.EndsWith("Gi", StringComparison.Ordinal))
        {
            scale = 1024;
            value = value[..^2];
        }
        else if (value.EndsWith("Ti", StringComparison.Ordinal))
        {
            scale = 1024 * 1024;
            value = value[..^2];
        }
        else if (value.EndsWith("Mi", StringComparison.Ordinal))
        {
            value = value[..^2];
        }

        // Compared before multiplying: n * scale can overflow a long (e.g. "9007199256838144Gi") and wrap to a small number.
        if (!long.TryParse(value, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n) || n > int.MaxValue / scale)
        {
            return false;
        }

        mib = (int)(n * scale);
        return true;
    }
}
