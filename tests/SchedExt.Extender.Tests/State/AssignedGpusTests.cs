using SchedExt.Extender.State;

namespace SchedExt.Extender.Tests.State;

public class AssignedGpusTests
{
    [Theory]
    [InlineData("empty mask", 0UL, "")]
    [InlineData("one GPU", 0b1UL, "0")]
    [InlineData("first four", 0b1111UL, "0,1,2,3")]
    [InlineData("scattered", 0b1010_0100UL, "2,5,7")]
    [InlineData("highest index", 1UL << 63, "63")]
    public void Format_Mask_AscendingIndices(string name, ulong mask, string expected)
    {
        Assert.NotNull(name);
        Assert.Equal(expected, AssignedGpus.Format(mask));
    }

    [Theory]
    [InlineData("single", "0", 0b1UL)]
    [InlineData("ascending", "0,1,2,3", 0b1111UL)]
    [InlineData("any order", "3,1", 0b1010UL)]
    [InlineData("two digits", "10,63", (1UL << 10) | (1UL << 63))]
    public void TryParse_Valid_Mask(string name, string value, ulong expected)
    {
        Assert.NotNull(name);
        Assert.True(AssignedGpus.TryParse(value, out var mask));
        Assert.Equal(expected, mask);
    }

    [Theory]
    [InlineData("empty", "")]
    [InlineData("trailing comma", "0,")]
    [InlineData("leading comma", ",0")]
    [InlineData("empty item", "0,,1")]
    [InlineData("repeat", "1,1")]
    [InlineData("beyond 63", "64")]
    [InlineData("negative", "-1")]
    [InlineData("plus sign", "+1")]
    [InlineData("leading space", " 1")]
    [InlineData("space after comma", "0, 1")]
    [InlineData("leading zero", "01")]
    [InlineData("letter", "a")]
    [InlineData("semicolon", "0;1")]
    [InlineData("range", "0-3")]
    [InlineData("three digits", "100")]
    public void TryParse_Malformed_FalseAndZero(string name, string value)
    {
        Assert.NotNull(name);
        Assert.False(AssignedGpus.TryParse(value, out var mask));
        Assert.Equal(0UL, mask);
    }

    [Fact]
    public void TryParse_FormatOfEveryNonEmptyByte_RoundTrips()
    {
        for (ulong mask = 1; mask < 256; mask++)
        {
            var shifted = mask << 56;
            Assert.True(AssignedGpus.TryParse(AssignedGpus.Format(shifted), out var back));
            Assert.Equal(shifted, back);
        }
    }
}
