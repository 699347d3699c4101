using static TorchSharp.torch;

namespace Glance.Engine.Checkpoints;

/// <summary>The safetensors dtype codes this engine reads and writes, and their torch equivalents.</summary>
public static class SafetensorsDType
{
    public static ScalarType ToScalarType(string code, string tensorName, string path) => code switch
    {
        "F32" => ScalarType.Float32,
        "F16" => ScalarType.Float16,
        "BF16" => ScalarType.BFloat16,
        "F64" => ScalarType.Float64,
        "I64" => ScalarType.Int64,
        "I32" => ScalarType.Int32,
        _ => throw new NotSupportedException(
            $"Tensor '{tensorName}' in '{path}' has dtype '{code}'; expected one of F32, F16, BF16, F64, I64, I32."),
    };

    public static string ToCode(ScalarType dtype, string tensorName) => dtype switch
    {
        ScalarType.Float32 => "F32",
        ScalarType.Float16 => "F16",
        ScalarType.BFloat16 => "BF16",
        ScalarType.Float64 => "F64",
        ScalarType.Int64 => "I64",
        ScalarType.Int32 => "I32",
        _ => throw new NotSupportedException(
            $"Tensor '{tensorName}' has dtype {dtype}; expected Float32, Float16, BFloat16, Float64, Int64 or Int32."),
    };

    public static int ElementSize(ScalarType dtype) => dtype switch
    {
        ScalarType.Float64 or ScalarType.Int64 => 8,
        ScalarType.Float32 or ScalarType.Int32 => 4,
        ScalarType.Float16 or ScalarType.BFloat16 => 2,
        _ => throw new NotSupportedException($"No safetensors element size for dtype {dtype}."),
    };
}
