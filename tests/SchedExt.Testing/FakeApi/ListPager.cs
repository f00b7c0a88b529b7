using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json.Nodes;

namespace SchedExt.Testing.FakeApi;

/// <summary>One page of a LIST: its items, the resourceVersion of the snapshot it comes from, and the token for the rest (null on the last page).</summary>
internal sealed record ListPage(List<JsonObject> Items, long Version, string? Continue);

/// <summary>
/// Serves a LIST in pages, as the real API server does with <c>limit</c>: every page comes from the snapshot taken for
/// the first and carries its resourceVersion, and <c>continue</c> is an opaque token for the rest of that snapshot.
/// A token whose snapshot the history no longer reaches (see <see cref="ObjectStore.IsCompacted"/>), or that this
/// server never issued, is 410 Expired; the client must list again from the start.
/// </summary>
/// <remarks>
/// The rest of a snapshot is kept as listed: a continued request's selectors are not applied again (the real server
/// expects the same ones as on the first page). Tokens stay usable until compacted, so a client may retry one.
/// </remarks>
internal sealed class ListPager(ObjectStore store)
{
    private readonly ConcurrentDictionary<string, ListPage> _rests = new(StringComparer.Ordinal);

    /// <summary>The page <paramref name="token"/> leads to (or, without one, the first page of what <paramref name="list"/> takes now), at most <paramref name="limit"/> items when it is positive.</summary>
    public ListPage Next(string? token, string? limit, Func<ListPage> list)
    {
        ListPage all;
        if (string.IsNullOrEmpty(token))
        {
            all = list();
        }
        else if (_rests.TryGetValue(token, out var rest) && !store.IsCompacted(rest.Version))
        {
            // Copies: a served item joins that page's JSON array, and the same token may be asked for again.
            all = rest with { Items = [.. rest.Items.Select(o => (JsonObject)o.DeepClone())] };
        }
        else
        {
            throw new ApiErrorException(410, "Expired", "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.");
        }

        var size = int.TryParse(limit, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0 ? n : int.MaxValue;
        if (all.Items.Count <= size)
        {
            return all;
        }

        var next = Guid.NewGuid().ToString("N");
        _rests[next] = all with { Items = all.Items[size..] };
        return new ListPage(all.Items[..size], all.Version, next);
    }
}
