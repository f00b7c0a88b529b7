using Microsoft.Extensions.Time.Testing;
using SchedExt.Extender.Scheduling;
using SchedExt.Extender.State;
using SchedExt.Extender.Tests.State;

namespace SchedExt.Extender.Tests.Scheduling;

/// <summary>A reservation is the only record of a bound pod's GPUs until the pod watch delivers it.</summary>
public sealed class ReservationsTests
{
    private readonly FakeTimeProvider _time = new(DateTimeOffset.UtcNow);
    private readonly SourceKit _kit;
    private readonly Reservations _reservations;

    public ReservationsTests()
    {
        _kit = new SourceKit(time: _time);
        _kit.State.ReplaceAll([_kit.DgxNode("n1")], []);
        _reservations = new Reservations(_time, _kit.State);
    }

    [Fact]
    public void Expiry_PodWatchSilent_ReservationKeptPastItsTimeToLive()
    {
        // Pod A's bind took GPUs 0-3; then the pod watch stalls while the node watch answers. Before: after 2 minutes the
        // reservation went, and A's GPUs were offered to pod B while A ran on them.
        Assert.Equal(0x0FUL, Reserve("uid-a"));
        for (var s = 0; s < 600; s += 10)
        {
            _time.Advance(TimeSpan.FromSeconds(10));
            _kit.State.Touch(ContactStream.Nodes);
        }

        Assert.Equal(0UL, Reserve("uid-b"));
        Assert.Equal(0x0FUL, _reservations.Reserved("n1", _kit.State.Current));
    }

    [Fact]
    public void Expiry_PodWatchSpeaksAfterTheBind_ReservationEndsAtItsTimeToLive()
    {
        // A bind whose pod the watch never shows (its outcome was unknown, and it was not bound after all): the GPUs
        // come back once the time-to-live has passed and the pod watch has spoken since the bind could have finished.
        Reserve("uid-a");
        _time.Advance(TimeSpan.FromSeconds(20));
        _kit.State.Touch(ContactStream.Pods);
        _time.Advance(TimeSpan.FromMinutes(3));
        Assert.Equal(0x0FUL, _reservations.Reserved("n1", _kit.State.Current));

        _kit.State.Touch(ContactStream.Pods);

        Assert.Equal(0UL, _reservations.Reserved("n1", _kit.State.Current));
        Assert.Equal(0x0FUL, Reserve("uid-b"));
    }

    [Fact]
    public void Expiry_WatchShowsThePod_ReservationEndsAtOnce()
    {
        Reserve("uid-a");

        _kit.State.UpsertPod(new PodAllocation("uid-a", "ml", "a", "n1", 0x0F, null));

        Assert.Equal(0UL, _reservations.Reserved("n1", _kit.State.Current));
        Assert.Equal(0, _reservations.Live(_kit.State.Current));
    }

    private ulong Reserve(string uid)
    {
        var snapshot = _kit.State.Current;
        return _reservations.ChooseAndReserve(snapshot.FindNode("n1")!, snapshot, uid, 0, free => free & 0x0F);
    }
}
