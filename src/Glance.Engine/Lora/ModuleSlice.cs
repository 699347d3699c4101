namespace Glance.Engine.Lora;

/// <summary>
/// Where a named module of a checkpoint or adapter file lands in the model: a linear layer (by its
/// state-dict path, e.g. "double_blocks.0.img_attn.qkv") and the block of output rows it owns. A diffusers
/// to_k lands on the middle third of a fused qkv; <see cref="Rows"/> null means all rows.
/// </summary>
public sealed record ModuleSlice(string Module, long RowOffset = 0, long? Rows = null);
