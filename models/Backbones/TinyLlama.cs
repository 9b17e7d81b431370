using CoLaR.Specs;

namespace CoLaR.Models.Backbones;

/// <summary>The embedded default: a small Llama-style backbone that trains on two CPU cores in minutes.</summary>
[Llama(Vocab = 512, Hidden = 128, Layers = 4, Heads = 4, KvHeads = 2, Intermediate = 352,
       RopeTheta = 10_000, TieEmbeddings = true, MaxPositions = 256)]
public partial class TinyLlama;
