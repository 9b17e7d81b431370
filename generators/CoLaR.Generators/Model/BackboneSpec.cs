namespace CoLaR.Generators.Model
{
    internal enum Family { Llama, Qwen2, Qwen3, Gpt2 }

    /// <summary>
    /// A backbone spec with every default resolved (KvHeads 0 → Heads, HeadDim 0 → Hidden / Heads,
    /// GPT-2 Intermediate 0 → 4·Hidden). Plain values only, so the pipeline can cache on equality.
    /// </summary>
    internal sealed record BackboneSpec(
        string Namespace,
        string ClassName,
        Family Family,
        int Vocab,
        int Hidden,
        int Layers,
        int Heads,
        int KvHeads,
        int HeadDim,
        int Intermediate,
        int MaxPositions,
        double NormEps,
        bool TieEmbeddings,
        double RopeTheta,
        double RopeScaling,
        double RopeLowFreqFactor,
        double RopeHighFreqFactor,
        int RopeOriginalMaxPositions)
    {
        public string FullName => Namespace.Length == 0 ? "global::" + ClassName : "global::" + Namespace + "." + ClassName;
        public bool HasRope => Family != Family.Gpt2;
        public int QSize => Heads * HeadDim;
        public int KvSize => KvHeads * HeadDim;
        public int KvGroups => KvHeads == 0 ? 1 : Heads / KvHeads;
    }
}
