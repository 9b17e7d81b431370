using ApprovalTests;
using ApprovalTests.Core;
using ApprovalTests.Reporters;
using ApprovalTests.Writers;

namespace CoLaR.Generators.Tests.Infrastructure;

/// <summary>
/// Snapshot checks with ApprovalTests: <c>Snapshots/{name}.approved.cs</c> is committed next to the
/// tests; a run writes <c>{name}.received.cs</c> (git-ignored) when the output differs, and fails.
/// No diff tool is ever launched (quiet reporter). Locally, <c>COLAR_APPROVE=1 dotnet test</c> accepts
/// the received output; that is ignored whenever <c>CI</c> is set, so a missing or different snapshot
/// always fails in CI.
/// </summary>
public static class Snapshot
{
    public static string Folder => System.IO.Path.Combine(Repo.TestProject, "Snapshots");

    /// <summary>True when received output may be approved: asked for, and not on CI.</summary>
    public static bool ApproveMode => ApproveModeFor(Environment.GetEnvironmentVariable);

    /// <summary>COLAR_APPROVE=1 (or true) approves, unless CI is set to anything.</summary>
    public static bool ApproveModeFor(Func<string, string?> environment) =>
        environment("COLAR_APPROVE") is "1" or "true" && string.IsNullOrEmpty(environment("CI"));

    public static void Verify(string name, string text) => Verify(name, text, Folder, ApproveMode);

    /// <summary>Compares <paramref name="text"/> with <c>{folder}/{name}.approved.cs</c>; throws when it is missing or differs, unless approving.</summary>
    public static void Verify(string name, string text, string folder, bool approve)
    {
        // Line endings and a trailing newline are not part of a snapshot; the BOM never is.
        text = text.Replace("\r\n", "\n").TrimStart('\uFEFF').TrimEnd('\n') + "\n";
        IApprovalFailureReporter reporter = approve ? new ApprovingReporter() : QuietReporter.INSTANCE;
        Approvals.Verify(new ApprovalTextWriter(text, "cs"), new Namer(folder, name), reporter);
    }

    sealed class Namer(string sourcePath, string name) : IApprovalNamer
    {
        public string SourcePath { get; } = sourcePath;
        public string Name { get; } = name;
    }

    /// <summary>Copies the received file over the approved one (local use only: never chosen when CI is set).</summary>
    sealed class ApprovingReporter : IReporterWithApprovalPower
    {
        public void Report(string approved, string received)
        {
            File.Copy(received, approved, overwrite: true);
            File.Delete(received);
        }

        public bool ApprovedWhenReported() => true;
    }
}
