using SchedExt.Extender.State;

namespace SchedExt.Extender.Protocol;

/// <summary>
/// Reads a request's NodeNames and resolves their snapshot positions while the rest of the body is still arriving.
/// PERF: a 5,000-candidate body (≈ 94 KB) reaches the handler in a few dozen pieces over ≈ 110 µs, during which the
/// handler only waited; scanning and looking up the names that have arrived overlaps that wait with work the verb
/// needs anyway.
/// It is a guess checked afterwards, never trusted: it looks for the bytes kube-scheduler writes
/// (<c>"NodeNames":[</c>) and scans from there with the same <see cref="NameScan"/> as <see cref="ExtenderArgsReader.TryScanNames"/>. The JSON
/// reader parses the whole body as before; only when it finds the NodeNames array opening at the very offset the guess
/// started from, and the guess read that array to its end, does it take the names (<see cref="TryTake"/>) — the same
/// bytes scanned by the same rules give the same names. Positions are used only against the snapshot they were
/// resolved in (<see cref="PositionsFor"/>). Anything else — another key spelling or spacing, the pattern inside the
/// pod, an escaped or non-ASCII name, a malformed array — leaves the guess unused and the reader does the work.
/// </summary>
internal sealed class EarlyNames
{
    private bool _found;
    private NameScan _scan;
    private int _searchFrom;
    private int _open;
    private int _resolved;
    private bool _taken;
    private ClusterSnapshot? _snapshot;
    private int[] _positions = new int[1024];
    private int[] _hashes = new int[1024];

    public EarlyNames() => Reset();

    /// <summary>The names read so far (slices of the body, never escaped).</summary>
    public List<Utf8Slice> Names { get; } = [];

    /// <summary>Forgets the previous request.</summary>
    public void Reset()
    {
        _found = _taken = false;
        _scan = default;
        _searchFrom = _resolved = 0;
        _open = -1;
        _snapshot = null;
        Names.Clear();
        if (_positions.Length > 1024 * 1024)
        {
            _positions = new int[1024];
            _hashes = new int[1024];
        }
    }

    /// <summary>
    /// Reads on over <paramref name="body"/> (everything that has arrived, of which the previous call saw a prefix) and
    /// resolves the new names in <paramref name="snapshot"/> when it has a name index.
    /// </summary>
    public void Advance(ReadOnlySpan<byte> body, ClusterSnapshot? snapshot)
    {
        if (!_found)
        {
            var pattern = "\"NodeNames\":["u8;
            var found = body[_searchFrom..].IndexOf(pattern);
            if (found < 0)
            {
                // The pattern may straddle what has arrived and what has not.
                _searchFrom = Math.Max(_searchFrom, body.Length - pattern.Length + 1);
                return;
            }

            _open = _searchFrom + found + pattern.Length;
            _scan = new NameScan(_open);
            _found = true;
        }

        _scan.Run(body, Names);
        if (snapshot is not null && snapshot.HasNameIndex && !_scan.Abandoned)
        {
            Resolve(body, snapshot);
        }
    }

    /// <summary>
    /// True when the guess read the NodeNames array that opens at <paramref name="open"/> (just past its <c>[</c>) to its
    /// end: the names are added to <paramref name="names"/> and <paramref name="close"/> is the index of the <c>]</c>.
    /// </summary>
    public bool TryTake(int open, List<Utf8Slice> names, out int close)
    {
        close = _scan.Close;
        if (!_found || !_scan.Complete || open != _open)
        {
            return false;
        }

        names.AddRange(Names);
        _taken = true;
        return true;
    }

    /// <summary>The positions of all taken names in <paramref name="snapshot"/>, when they were resolved in it; else empty.</summary>
    public ReadOnlySpan<int> PositionsFor(ClusterSnapshot snapshot, int count) =>
        _taken && ReferenceEquals(snapshot, _snapshot) && _resolved == count && count == Names.Count
            ? _positions.AsSpan(0, count)
            : default;

    /// <summary>Resolves the names not yet resolved, all in one snapshot (a new snapshot starts over).</summary>
    private void Resolve(ReadOnlySpan<byte> body, ClusterSnapshot snapshot)
    {
        if (!ReferenceEquals(snapshot, _snapshot))
        {
            _snapshot = snapshot;
            _resolved = 0;
        }

        var count = Names.Count;
        if (count == _resolved)
        {
            return;
        }

        if (_positions.Length < count)
        {
            var size = Math.Max(count, _positions.Length * 2);
            Array.Resize(ref _positions, size);
            _hashes = new int[size];
        }

        snapshot.ResolveAll(new Range(this, body, _resolved, count), _positions.AsSpan(_resolved, count - _resolved), _hashes.AsSpan(0, count - _resolved));
        _resolved = count;
    }

    /// <summary>Names [from, to) as an <see cref="INameList"/>.</summary>
    private readonly ref struct Range(EarlyNames owner, ReadOnlySpan<byte> body, int from, int to) : INameList
    {
        private readonly ReadOnlySpan<byte> _body = body;

        public int Count => to - from;

        public ReadOnlySpan<byte> Name(int i)
        {
            var slice = owner.Names[from + i];
            return _body.Slice(slice.Start, slice.Length);
        }
    }
}
