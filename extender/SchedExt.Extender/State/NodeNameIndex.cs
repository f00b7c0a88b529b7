using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;
using System.Text;

namespace SchedExt.Extender.State;

/// <summary>
/// Node names as UTF-8 mapped to dense positions 0..Count-1: filter and prioritize look every candidate up by the bytes
/// kube-scheduler sent, with no transcoding to UTF-16 and no string hashing. Immutable; built when the set of node
/// names changes and shared by every snapshot until it changes again (pod events do not rebuild it).
/// </summary>
/// <remarks>
/// PERF: open addressing with linear probing over slots that carry the hash, the position and where the name's bytes
/// are, so a lookup touches one slot and the name's bytes (two cache lines at 5,000 nodes, where the table no longer
/// fits the first-level cache) before the snapshot's per-position arrays.
/// </remarks>
internal sealed class NodeNameIndex
{
    private static readonly ulong Seed = (ulong)Random.Shared.NextInt64();

    private readonly string[] _names;
    private readonly byte[] _utf8;

    // At most half full; an empty slot has Position -1.
    private readonly Slot[] _slots;
    private readonly int _mask;

    private NodeNameIndex(string[] names)
    {
        _names = names;
        _utf8 = new byte[names.Sum(Encoding.UTF8.GetByteCount)];
        var size = (int)BitOperations.RoundUpToPowerOf2((uint)Math.Max(4, names.Length * 2));
        _slots = new Slot[size];
        _slots.AsSpan().Fill(new Slot(0, -1, 0, 0));
        _mask = size - 1;
        var start = 0;
        for (var i = 0; i < names.Length; i++)
        {
            var length = Encoding.UTF8.GetBytes(names[i], _utf8.AsSpan(start));
            var hash = Hash(_utf8.AsSpan(start, length));
            var slot = hash & _mask;
            while (_slots[slot].Position >= 0)
            {
                slot = (slot + 1) & _mask;
            }

            _slots[slot] = new Slot(hash, i, start, length);
            start += length;
        }
    }

    public static NodeNameIndex Empty { get; } = new([]);

    public int Count => _names.Length;

    /// <summary>Indexes <paramref name="names"/> (distinct) in the given order: position i is names[i].</summary>
    public static NodeNameIndex Build(IEnumerable<string> names) => new(names.ToArray());

    public string NameAt(int position) => _names[position];

    /// <summary>The position of the node whose name is the UTF-8 <paramref name="utf8"/>, or -1.</summary>
    public int IndexOf(ReadOnlySpan<byte> utf8) => IndexOf(utf8, Hash(utf8));

    /// <summary>
    /// Resolves many names at once: <paramref name="positions"/>[i] is the position of
    /// <paramref name="names"/>.Name(i) (UTF-8), or -1; <paramref name="hashes"/> is working space of the same length.
    /// </summary>
    /// <remarks>
    /// PERF: with thousands of candidates the table and the names do not stay in the first-level cache between
    /// requests, and one lookup after another waits for each miss in turn. Here the work is pipelined: a name is hashed
    /// and its slot prefetched <see cref="Ahead"/> names before it is probed, and its name bytes prefetched half that
    /// distance before, so the misses of many names are in flight together.
    /// </remarks>
    public void ResolveAll<TNames>(TNames names, Span<int> positions, Span<int> hashes)
        where TNames : struct, INameList, allows ref struct
    {
        const int Half = Ahead / 2;
        var count = names.Count;
        for (var i = 0; i < count + Ahead; i++)
        {
            if (i < count)
            {
                var hash = Hash(names.Name(i));
                hashes[i] = hash;
                Prefetch(ref _slots[hash & _mask]);
            }

            var mid = i - Half;
            if ((uint)mid < (uint)count)
            {
                ref readonly var first = ref _slots[hashes[mid] & _mask];
                if (first.Position >= 0 && first.NameStart < _utf8.Length)
                {
                    Prefetch(ref _utf8[first.NameStart]);
                }
            }

            var done = i - Ahead;
            if (done >= 0)
            {
                positions[done] = IndexOf(names.Name(done), hashes[done]);
            }
        }
    }

    /// <summary>How many names ahead <see cref="ResolveAll"/> prefetches.</summary>
    private const int Ahead = 16;

    /// <summary>A hint to bring the cache line holding <paramref name="target"/> closer; never reads or faults.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static unsafe void Prefetch<T>(ref T target)
    {
        if (Sse.IsSupported)
        {
            // The pointer is not dereferenced: a prefetch of an address the GC has since moved is merely wasted.
            Sse.Prefetch0(Unsafe.AsPointer(ref target));
        }
    }

    private int IndexOf(ReadOnlySpan<byte> utf8, int hash)
    {
        var slots = _slots;
        var slot = hash & _mask;
        while (true)
        {
            ref readonly var s = ref slots[slot];
            if (s.Position < 0)
            {
                return -1;
            }

            if (s.Hash == hash && utf8.SequenceEqual(_utf8.AsSpan(s.NameStart, s.NameLength)))
            {
                return s.Position;
            }

            slot = (slot + 1) & _mask;
        }
    }

    /// <summary>
    /// A multiply-xorshift hash over 8-byte words, randomly seeded per process so names cannot be chosen to collide.
    /// PERF: node names are 10–60 bytes; this is a few multiplications per name, against one call per 4 bytes for
    /// <see cref="HashCode.AddBytes"/>.
    /// </summary>
    private static int Hash(ReadOnlySpan<byte> utf8)
    {
        const ulong K = 0x9E3779B97F4A7C15UL;
        var h = Seed ^ ((ulong)utf8.Length * K);
        if (utf8.Length >= 8)
        {
            // Whole words, then the last 8 bytes (overlapping the previous word when the length is not a multiple of 8).
            var rest = utf8;
            while (rest.Length > 8)
            {
                h = Mix(h, BinaryPrimitives.ReadUInt64LittleEndian(rest));
                rest = rest[8..];
            }

            h = Mix(h, BinaryPrimitives.ReadUInt64LittleEndian(utf8[^8..]));
        }
        else
        {
            ulong tail = 0;
            for (var i = 0; i < utf8.Length; i++)
            {
                tail |= (ulong)utf8[i] << (8 * i);
            }

            h = Mix(h, tail);
        }

        return (int)((h * K) >> 33);

        static ulong Mix(ulong h, ulong word)
        {
            h = (h ^ word) * K;
            return h ^ (h >> 29);
        }
    }

    private readonly record struct Slot(int Hash, int Position, int NameStart, int NameLength);
}

/// <summary>Names to resolve, by index, as UTF-8 (a struct, so <see cref="NodeNameIndex.ResolveAll"/> is specialised and inlined for it).</summary>
internal interface INameList
{
    int Count { get; }

    /// <summary>Name <paramref name="i"/>; may be asked for several times, and for several names at once.</summary>
    ReadOnlySpan<byte> Name(int i);
}
