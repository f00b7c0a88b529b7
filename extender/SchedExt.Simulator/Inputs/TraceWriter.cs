using System.Globalization;
using System.Text;
using SchedExt.Topology.Requests;

namespace SchedExt.Simulator.Inputs;

/// <summary>Writes jobs as a CSV trace that <see cref="TraceReader"/> reads back unchanged (so a synthetic trace can be kept and edited).</summary>
internal static class TraceWriter
{
    public static string ToCsv(IEnumerable<SimJob> jobs)
    {
        ArgumentNullException.ThrowIfNull(jobs);
        var text = new StringBuilder();
        text.Append(string.Join(',', TraceReader.Columns)).Append('\n');
        foreach (var job in jobs)
        {
            var r = job.Request;
            text.Append(CultureInfo.InvariantCulture, $"{job.Arrival:R},{job.Duration:R},{r.Count},{SchedExtKeys.Format(r.Interconnect)},{SchedExtKeys.Format(r.Nic)},{SchedExtKeys.Format(r.Machine)},{job.Group}\n");
        }

        return text.ToString();
    }
}
