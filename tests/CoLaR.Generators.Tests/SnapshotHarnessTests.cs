namespace CoLaR.Generators.Tests;

/// <summary>The snapshot helper itself: a missing or different snapshot fails, and CI never approves.</summary>
public sealed class SnapshotHarnessTests : IDisposable
{
    readonly string _folder = Path.Combine(Path.GetTempPath(), "colar-snapshots-" + Guid.NewGuid().ToString("n"));

    public SnapshotHarnessTests() => Directory.CreateDirectory(_folder);

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    static Func<string, string?> Env(params (string Name, string Value)[] values) =>
        name => values.FirstOrDefault(v => v.Name == name).Value;

    [Fact]
    public void Approve_mode_needs_COLAR_APPROVE_and_is_off_whenever_CI_is_set()
    {
        Assert.True(Snapshot.ApproveModeFor(Env(("COLAR_APPROVE", "1"))));
        Assert.False(Snapshot.ApproveModeFor(Env(("COLAR_APPROVE", "1"), ("CI", "true"))));
        Assert.False(Snapshot.ApproveModeFor(Env(("COLAR_APPROVE", "1"), ("CI", "1"))));
        Assert.False(Snapshot.ApproveModeFor(Env()));
        Assert.False(Snapshot.ApproveModeFor(Env(("CI", "true"))));
    }

    [Fact]
    public void A_missing_snapshot_fails_and_is_not_created()
    {
        Assert.ThrowsAny<Exception>(() => Snapshot.Verify("Missing", "class A { }", _folder, approve: false));
        Assert.False(File.Exists(Path.Combine(_folder, "Missing.approved.cs")));
        Assert.True(File.Exists(Path.Combine(_folder, "Missing.received.cs"))); // left for the developer to inspect
    }

    [Fact]
    public void A_different_snapshot_fails_and_a_matching_one_passes()
    {
        File.WriteAllText(Path.Combine(_folder, "Same.approved.cs"), "class A { }\n");
        Snapshot.Verify("Same", "class A { }", _folder, approve: false);
        Snapshot.Verify("Same", "class A { }\r\n", _folder, approve: false); // line endings are not part of it
        Assert.ThrowsAny<Exception>(() => Snapshot.Verify("Same", "class B { }", _folder, approve: false));
        Assert.Equal("class A { }\n", File.ReadAllText(Path.Combine(_folder, "Same.approved.cs")));
    }

    [Fact]
    public void Approving_writes_the_snapshot()
    {
        Snapshot.Verify("New", "class C { }", _folder, approve: true);
        Assert.Equal("class C { }\n", File.ReadAllText(Path.Combine(_folder, "New.approved.cs")).TrimStart('\uFEFF'));
        Assert.False(File.Exists(Path.Combine(_folder, "New.received.cs")));
        Snapshot.Verify("New", "class C { }", _folder, approve: false);
    }
}
