using CoLaR.Specs;

namespace CoLaR.Models.Backbones;

// Pre-trained backbones: declared with the sizes of their Hugging Face config.json, so `colar import` can check a
// downloaded checkpoint against them field by field and write weights every reasoner below can start from (--init).
// Their tokenizers come from the checkpoint (Tokenizer = "checkpoint" on the reasoners). embeds_std is not a
// constant here: CoLaR computes it from the loaded embedding table (the import records it as colar.embeds_std).

/// <summary>
/// meta-llama/Llama-3.2-1B-Instruct, the paper's backbone: 16 layers, 32 query / 8 key-value heads, Llama-3 RoPE
/// scaling, tied embeddings. Its vocabulary reserves a pad token (&lt;|finetune_right_pad_id|&gt;), so the table keeps
/// its 128 256 rows.
/// </summary>
[Llama(Vocab = 128_256, Hidden = 2048, Layers = 16, Heads = 32, KvHeads = 8, HeadDim = 64, Intermediate = 8192,
       MaxPositions = 131_072, NormEps = 1e-5, TieEmbeddings = true,
       RopeTheta = 500_000, RopeScaling = 32, RopeLowFreqFactor = 1, RopeHighFreqFactor = 4, RopeOriginalMaxPositions = 8192)]
public partial class Llama32_1B;

/// <summary>
/// Qwen/Qwen2.5-0.5B-Instruct: 24 layers, 14 query / 2 key-value heads, Q/K/V biases, tied embeddings. The table
/// has 151 936 rows for a 151 665-token tokenizer, so a [PAD] the tokenizer adds fits without resizing.
/// </summary>
[Qwen2(Vocab = 151_936, Hidden = 896, Layers = 24, Heads = 14, KvHeads = 2, Intermediate = 4864,
       MaxPositions = 32_768, NormEps = 1e-6, TieEmbeddings = true, RopeTheta = 1_000_000)]
public partial class Qwen25_05B;

/// <summary>
/// openai-community/gpt2 (GPT-2 small, 124M), the backbone of the published multiplication / GSM8k-Aug anchors.
/// Its tokenizer has no pad token, so the import appends a [PAD] row (mean of the others): 50 257 + 1 rows.
/// </summary>
[Gpt2(Vocab = 50_258, Hidden = 768, Layers = 12, Heads = 12, MaxPositions = 1024)]
public partial class Gpt2Small;
