namespace Glance.Engine.Checkpoints;

/// <summary>
/// Where one checkpoint tensor goes in a module's state dict: into <paramref name="TargetKey"/> at rows
/// [RowOffset, RowOffset + rows) along dim 0, rows being the tensor's first dimension. With <paramref name="Reshape"/>
/// the tensor's elements fill a target slice of the same element count (a Linear [512, 512] into a 1x1 Conv
/// [512, 512, 1, 1]). <paramref name="SourceRows"/> takes only rows [SourceRowOffset, SourceRowOffset + SourceRows)
/// of the checkpoint tensor (one tensor split over two places, as FLUX's final modulation with its halves swapped).
/// </summary>
public sealed record TensorPlacement(string TargetKey, long RowOffset = 0, bool Reshape = false, long SourceRowOffset = 0, long? SourceRows = null);
