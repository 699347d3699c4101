using static TorchSharp.torch;

namespace Glance.Engine.Lora;

/// <summary>
/// One low-rank update y += scale * up(down(x)) written into rows [RowOffset, RowOffset + Up.rows) of a
/// linear layer's output. A LoRA on to_q of a fused qkv layer is a piece covering one third of its rows.
/// </summary>
/// <param name="TargetName">The module name as the adapter file spells it (kept so a save writes it back unchanged).</param>
/// <param name="Down">lora_A / lora_down, shape [rank, in].</param>
/// <param name="Up">lora_B / lora_up, shape [rows, rank].</param>
/// <param name="RowOffset">First output row of the target layer this piece writes to.</param>
/// <param name="Alpha">LoRA alpha; the applied scale is <see cref="Scale"/>.</param>
/// <param name="Scale">Multiplier of up(down(x)): alpha / rank, or an explicit override.</param>
public sealed record LoraPiece(string TargetName, Tensor Down, Tensor Up, long RowOffset, double Alpha, double Scale)
{
    public long Rank => Down.shape[0];
    public long Rows => Up.shape[0];
}
