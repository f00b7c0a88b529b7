using System.Security.Cryptography;
using System.Text;

namespace SchedExt.Extender.Binding;

/// <summary>Names of the per-GPU claim objects: <c>gpu.&lt;node&gt;.&lt;index&gt;</c>, one per physical device, so create-if-absent is the lock.</summary>
internal static class ClaimNames
{
    private const int MaxName = 253;

    public static string For(string node, int gpu)
    {
        var name = $"gpu.{node}.{gpu}";
        if (name.Length <= MaxName)
        {
            return name;
        }

        // Node names may be up to 253 characters themselves; a stable hash keeps the claim name a valid object name.
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(node)))[..32];
        return $"gpu.{hash}.{gpu}";
    }
}
