using k8s.Models;

namespace SchedExt.Extender.State;

/// <summary>Turns a Node object into what the extender knows of it (null for nodes without managed GPUs).</summary>
internal interface INodeInfoReader
{
    NodeInfo? Read(V1Node node);
}
