using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace SchedExt.Extender.Tests.Hosting;

/// <summary>The extender's built-in settings, which hold wherever the process is started from (no settings file is read for them).</summary>
public sealed class ExtenderAppTests
{
    [Fact]
    public async Task Build_NoSettings_AspNetCoreRequestLinesOffAndOwnCategoriesOn()
    {
        await using var app = ExtenderApp.Build(["--urls", "http://127.0.0.1:0", "--SchedExt:Extender:Demo", "true"]);
        var logs = app.Services.GetRequiredService<ILoggerFactory>();

        Assert.False(logs.CreateLogger("Microsoft.AspNetCore.Hosting.Diagnostics").IsEnabled(LogLevel.Information));
        Assert.False(logs.CreateLogger("Microsoft.AspNetCore.Routing.EndpointMiddleware").IsEnabled(LogLevel.Information));
        Assert.True(logs.CreateLogger("SchedExt.Extender.Binding.Binder").IsEnabled(LogLevel.Information));
    }

    [Fact]
    public async Task Build_LogLevelGiven_OverridesTheBuiltInDefault()
    {
        await using var app = ExtenderApp.Build(["--urls", "http://127.0.0.1:0", "--SchedExt:Extender:Demo", "true", "--Logging:LogLevel:Microsoft.AspNetCore", "Information"]);

        Assert.True(app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Microsoft.AspNetCore.Hosting.Diagnostics").IsEnabled(LogLevel.Information));
    }
}
