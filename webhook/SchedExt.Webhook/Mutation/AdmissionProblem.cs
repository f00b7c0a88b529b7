namespace SchedExt.Webhook.Mutation;

/// <summary>Why a pod's request cannot be honoured; <paramref name="Reason"/> is the metric label, <paramref name="Message"/> what the user reads.</summary>
internal sealed record AdmissionProblem(string Reason, string Message)
{
    public const string UnknownProfile = "unknown-profile";
    public const string InvalidAnnotation = "invalid-annotation";
    public const string InvalidGpuCount = "invalid-gpu-count";
    public const string MissingGpuCount = "missing-gpu-count";
    public const string UnenforceableGpuCount = "unenforceable-gpu-count";
    public const string UnknownContainer = "unknown-container";
    public const string InvalidClaimTemplate = "invalid-claim-template";
    public const string Infeasible = "infeasible";
}
