using Microsoft.CodeAnalysis;

namespace CoLaR.Generators
{
    /// <summary>
    /// Every diagnostic the generator reports. IDs are stable: docs/spec-language.md documents each one,
    /// and a test checks that the two lists agree.
    /// </summary>
    internal static class Diagnostics
    {
        private const string Category = "CoLaR.Spec";

        private static DiagnosticDescriptor Error(string id, string title, string message) =>
            new(id, title, message, Category, DiagnosticSeverity.Error, isEnabledByDefault: true,
                helpLinkUri: "docs/spec-language.md#" + id.ToLowerInvariant());

        public static readonly DiagnosticDescriptor InternalError = new(
            "COLAR000", "The CoLaR generator failed",
            "The CoLaR generator could not process '{0}': {1}",
            Category, DiagnosticSeverity.Warning, isEnabledByDefault: true, helpLinkUri: "docs/spec-language.md#colar000");

        public static readonly DiagnosticDescriptor HiddenNotDivisibleByHeads = Error(
            "COLAR001", "Hidden size is not divisible by the number of heads",
            "Hidden ({0}) is not divisible by Heads ({1}): head size would be {2}");

        public static readonly DiagnosticDescriptor HeadsNotDivisibleByKvHeads = Error(
            "COLAR002", "Query heads are not divisible by key/value heads",
            "Heads ({0}) is not divisible by KvHeads ({1}): each key/value head must serve a whole number of query heads");

        public static readonly DiagnosticDescriptor OddRotaryHeadDim = Error(
            "COLAR003", "Odd head size with rotary embeddings",
            "Head size {0} is odd: rotary position embedding rotates pairs of dimensions");

        public static readonly DiagnosticDescriptor NonPositiveSize = Error(
            "COLAR004", "A size is not positive",
            "{0} must be positive, but is {1}");

        public static readonly DiagnosticDescriptor NotPartial = Error(
            "COLAR005", "Spec class is not partial",
            "'{0}' carries [{1}] but is not declared partial, so no code can be generated for it");

        public static readonly DiagnosticDescriptor Duplicate = Error(
            "COLAR006", "Conflicting spec attributes",
            "'{0}' carries both [{1}] and [{2}]; a class declares exactly one {3}");

        public static readonly DiagnosticDescriptor LatentHeadWidthMismatch = Error(
            "COLAR007", "Latent head output does not match the backbone",
            "LatentHead output ({0}) does not match {1}.Hidden ({2})");

        public static readonly DiagnosticDescriptor MergerWidthMismatch = Error(
            "COLAR008", "Compression merger width does not match the backbone",
            "CompressionMerger width ({0}) does not match {1}.Hidden ({2})");

        public static readonly DiagnosticDescriptor MissingComponent = Error(
            "COLAR009", "A required component is missing",
            "[{0}] on '{1}' needs [{2}]");

        public static readonly DiagnosticDescriptor BadCompressionRange = Error(
            "COLAR010", "Empty or inverted compression range",
            "Compression range {0}..{1} is empty: need 1 <= MinCompression <= MaxCompression");

        public static readonly DiagnosticDescriptor VocabularyTooSmall = Error(
            "COLAR011", "Vocabulary too small for the tokenizer",
            "{0}.Vocab ({1}) is smaller than the embedded tokenizer's {2} tokens (its special tokens [PAD], [EOS] and ### included)");

        public static readonly DiagnosticDescriptor NotABackbone = Error(
            "COLAR012", "The backbone type is not a backbone spec",
            "'{0}' is not a backbone spec: declare it with [Llama], [Qwen2], [Qwen3] or [Gpt2]");

        public static readonly DiagnosticDescriptor ComponentNotApplicable = Error(
            "COLAR013", "Component has no effect here",
            "[{0}] on '{1}' has no effect: it belongs on a class with {2}");

        public static readonly DiagnosticDescriptor BadRopeScaling = Error(
            "COLAR014", "Invalid RoPE scaling",
            "RoPE scaling needs RopeScaling >= 1, 0 < RopeLowFreqFactor < RopeHighFreqFactor and RopeOriginalMaxPositions > 0; " +
            "got RopeScaling = {0}, RopeLowFreqFactor = {1}, RopeHighFreqFactor = {2}, RopeOriginalMaxPositions = {3}");

        public static readonly DiagnosticDescriptor DeterministicNll = Error(
            "COLAR015", "NLL loss on a deterministic latent head",
            "A deterministic latent head has no variance, so its NLL is undefined: use Loss = LatentLoss.Mse or Kind = LatentHeadKind.Gaussian");

        public static readonly DiagnosticDescriptor NestedOrGeneric = Error(
            "COLAR016", "Spec class is nested, generic or a record",
            "'{0}' is {1}: declare specs as top-level, non-generic classes");

        public static readonly DiagnosticDescriptor BadThoughtCount = Error(
            "COLAR017", "Continuous thought counts do not fit",
            "MaxThoughts ({0}) must be a positive multiple of ThoughtsPerStep ({1})");

        public static readonly DiagnosticDescriptor BadLoraRank = Error(
            "COLAR018", "Invalid LoRA configuration",
            "Lora Rank ({0}) must be between 1 and {1}.Hidden ({2}), with at least one target");

        public static readonly DiagnosticDescriptor OutOfRange = Error(
            "COLAR019", "A value is out of range",
            "{0} = {1} is out of range: {2}");

        public static readonly DiagnosticDescriptor HasBaseClass = Error(
            "COLAR020", "Spec class declares a base class",
            "'{0}' derives from '{1}', but the generated code derives it from {2}: remove the base class");

        public static readonly DiagnosticDescriptor ReservedName = Error(
            "COLAR021", "Spec class name clashes with the generated code",
            "'{0}' is also {1} in the code generated for a {2}: rename the class");

        /// <summary>All descriptors, for documentation checks.</summary>
        public static readonly DiagnosticDescriptor[] All =
        {
            InternalError, HiddenNotDivisibleByHeads, HeadsNotDivisibleByKvHeads, OddRotaryHeadDim, NonPositiveSize,
            NotPartial, Duplicate, LatentHeadWidthMismatch, MergerWidthMismatch, MissingComponent,
            BadCompressionRange, VocabularyTooSmall, NotABackbone, ComponentNotApplicable, BadRopeScaling,
            DeterministicNll, NestedOrGeneric, BadThoughtCount, BadLoraRank, OutOfRange, HasBaseClass, ReservedName,
        };
    }
}
