using CoLaR.Specs;

namespace CoLaR.Models.Bench;

// The backbones `colar bench` measures besides the shipped TinyLlama (hidden 128, 4 layers). They are
// ordinary specs: the generator writes them exactly as it writes a user's. They live here, not in
// Backbones/, because they are not offered for training (no reasoner uses them).

/// <summary>The MFU size of issue 6: hidden 512, 8 layers, grouped-query attention like TinyLlama.</summary>
[Llama(Vocab = 512, Hidden = 512, Layers = 8, Heads = 8, KvHeads = 4, Intermediate = 1408,
       RopeTheta = 10_000, TieEmbeddings = true, MaxPositions = 1024)]
public partial class BenchLlama512;

/// <summary>A middle size: hidden 256, 4 layers.</summary>
[Llama(Vocab = 512, Hidden = 256, Layers = 4, Heads = 4, KvHeads = 2, Intermediate = 704,
       RopeTheta = 10_000, TieEmbeddings = true, MaxPositions = 1024)]
public partial class BenchLlama256;
