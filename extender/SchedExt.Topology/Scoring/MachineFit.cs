using SchedExt.Topology.Requests;

namespace SchedExt.Topology.Scoring;

/// <summary>Machine-kind fit, 0..1000: a preference met 1000, missed 0, unknown kind 500; no preference (or a met requirement) 1000.</summary>
public static class MachineFit
{
    public static int Score(MachinePolicy policy, MachineKind node) => policy switch
    {
        MachinePolicy.PreferBareMetal => node switch { MachineKind.BareMetal => 1000, MachineKind.Vm => 0, _ => 500 },
        MachinePolicy.PreferVm => node switch { MachineKind.Vm => 1000, MachineKind.BareMetal => 0, _ => 500 },
        _ => ScoreWeights.PartScale,
    };

    /// <summary>True when <paramref name="policy"/> rules the node out.</summary>
    public static bool Excludes(MachinePolicy policy, MachineKind node) => policy switch
    {
        MachinePolicy.RequireBareMetal => node != MachineKind.BareMetal,
        MachinePolicy.RequireVm => node != MachineKind.Vm,
        _ => false,
    };
}
