using static TorchSharp.torch;

namespace CoLaR.Checkpoints;

/// <summary>The safetensors element types this implementation reads and writes (the names are the format's own).</summary>
public enum SafeTensorsDType
{
    /// <summary>float32.</summary>
    F32,
    /// <summary>float16 (kept as float16 when read).</summary>
    F16,
    /// <summary>bfloat16 (kept as bfloat16 when read).</summary>
    BF16,
    /// <summary>float64.</summary>
    F64,
    /// <summary>int64.</summary>
    I64,
    /// <summary>int32.</summary>
    I32,
    /// <summary>int16.</summary>
    I16,
    /// <summary>int8.</summary>
    I8,
    /// <summary>uint8.</summary>
    U8,
    /// <summary>bool, one byte per element (0 or 1).</summary>
    BOOL,
}

/// <summary>Conversions between the format's dtype names, element sizes and TorchSharp scalar types.</summary>
public static class SafeTensorsDTypes
{
    /// <summary>The dtype for a header's name ("F32"); the format's names are upper case and matched exactly.</summary>
    public static bool TryParse(string name, out SafeTensorsDType dtype)
    {
        switch (name)
        {
            case "F32": dtype = SafeTensorsDType.F32; return true;
            case "F16": dtype = SafeTensorsDType.F16; return true;
            case "BF16": dtype = SafeTensorsDType.BF16; return true;
            case "F64": dtype = SafeTensorsDType.F64; return true;
            case "I64": dtype = SafeTensorsDType.I64; return true;
            case "I32": dtype = SafeTensorsDType.I32; return true;
            case "I16": dtype = SafeTensorsDType.I16; return true;
            case "I8": dtype = SafeTensorsDType.I8; return true;
            case "U8": dtype = SafeTensorsDType.U8; return true;
            case "BOOL": dtype = SafeTensorsDType.BOOL; return true;
            default: dtype = default; return false;
        }
    }

    /// <summary>Bytes per element.</summary>
    public static int ElementSize(this SafeTensorsDType dtype) => dtype switch
    {
        SafeTensorsDType.F64 or SafeTensorsDType.I64 => 8,
        SafeTensorsDType.F32 or SafeTensorsDType.I32 => 4,
        SafeTensorsDType.F16 or SafeTensorsDType.BF16 or SafeTensorsDType.I16 => 2,
        _ => 1,
    };

    /// <summary>The TorchSharp scalar type a tensor of this dtype is read into.</summary>
    public static ScalarType ToScalarType(this SafeTensorsDType dtype) => dtype switch
    {
        SafeTensorsDType.F32 => ScalarType.Float32,
        SafeTensorsDType.F16 => ScalarType.Float16,
        SafeTensorsDType.BF16 => ScalarType.BFloat16,
        SafeTensorsDType.F64 => ScalarType.Float64,
        SafeTensorsDType.I64 => ScalarType.Int64,
        SafeTensorsDType.I32 => ScalarType.Int32,
        SafeTensorsDType.I16 => ScalarType.Int16,
        SafeTensorsDType.I8 => ScalarType.Int8,
        SafeTensorsDType.U8 => ScalarType.Byte,
        SafeTensorsDType.BOOL => ScalarType.Bool,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype)),
    };

    /// <summary>The dtype a tensor of this scalar type is written as; false for types the format (or this implementation) lacks.</summary>
    public static bool TryFromScalarType(ScalarType type, out SafeTensorsDType dtype)
    {
        switch (type)
        {
            case ScalarType.Float32: dtype = SafeTensorsDType.F32; return true;
            case ScalarType.Float16: dtype = SafeTensorsDType.F16; return true;
            case ScalarType.BFloat16: dtype = SafeTensorsDType.BF16; return true;
            case ScalarType.Float64: dtype = SafeTensorsDType.F64; return true;
            case ScalarType.Int64: dtype = SafeTensorsDType.I64; return true;
            case ScalarType.Int32: dtype = SafeTensorsDType.I32; return true;
            case ScalarType.Int16: dtype = SafeTensorsDType.I16; return true;
            case ScalarType.Int8: dtype = SafeTensorsDType.I8; return true;
            case ScalarType.Byte: dtype = SafeTensorsDType.U8; return true;
            case ScalarType.Bool: dtype = SafeTensorsDType.BOOL; return true;
            default: dtype = default; return false;
        }
    }

    internal const string SupportedList = "F32, F16, BF16, F64, I64, I32, I16, I8, U8, BOOL";
}
