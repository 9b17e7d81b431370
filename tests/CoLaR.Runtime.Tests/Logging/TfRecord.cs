using System.Buffers.Binary;
using System.Text;

namespace CoLaR.Runtime.Tests.Logging;

/// <summary>
/// A small, independent reader of TensorBoard event files for tests: TFRecord framing
/// (u64 length, masked CRC-32C of the length, data, masked CRC-32C of the data) and just enough
/// protobuf to read Event { wall_time = 1; step = 2; file_version = 3; summary = 5 { value = 1 { tag = 1; simple_value = 2 } } }.
/// </summary>
internal static class TfRecord
{
    public sealed record ScalarEvent(double WallTime, long Step, string Tag, float Value);

    static readonly uint[] Table = BuildTable();

    static uint[] BuildTable()
    {
        const uint poly = 0x82F63B78; // CRC-32C (Castagnoli), reflected
        var t = new uint[256];
        for (uint i = 0; i < 256; i++)
        {
            uint c = i;
            for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? (c >> 1) ^ poly : c >> 1;
            t[i] = c;
        }
        return t;
    }

    public static uint Crc32C(ReadOnlySpan<byte> data)
    {
        uint crc = 0xFFFFFFFF;
        foreach (byte b in data) crc = Table[(crc ^ b) & 0xFF] ^ (crc >> 8);
        return ~crc;
    }

    public static uint Masked(uint crc) => ((crc >> 15) | (crc << 17)) + 0xA282EAD8;

    /// <summary>The records' payloads; throws when any length or CRC is wrong or the file ends mid-record.</summary>
    public static List<byte[]> ReadRecords(byte[] file)
    {
        var records = new List<byte[]>();
        int pos = 0;
        while (pos < file.Length)
        {
            if (file.Length - pos < 12) throw new InvalidDataException($"truncated header at {pos}");
            var header = file.AsSpan(pos, 8);
            ulong length = BinaryPrimitives.ReadUInt64LittleEndian(header);
            uint lengthCrc = BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(pos + 8, 4));
            if (Masked(Crc32C(header)) != lengthCrc) throw new InvalidDataException($"bad length CRC at {pos}");
            pos += 12;
            if ((ulong)(file.Length - pos) < length + 4) throw new InvalidDataException($"truncated record at {pos}");
            var data = file.AsSpan(pos, (int)length);
            uint dataCrc = BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(pos + (int)length, 4));
            if (Masked(Crc32C(data)) != dataCrc) throw new InvalidDataException($"bad data CRC at {pos}");
            records.Add(data.ToArray());
            pos += (int)length + 4;
        }
        return records;
    }

    /// <summary>Scalar summaries in a record payload (an Event), plus its file_version if it has one.</summary>
    public static (List<ScalarEvent> Scalars, string? FileVersion) ParseEvent(byte[] ev)
    {
        double wall = 0; long step = 0; string? version = null;
        var summaries = new List<byte[]>();
        foreach (var (field, wire, value, bytes) in Fields(ev))
        {
            if (field == 1 && wire == 1) wall = BitConverter.Int64BitsToDouble((long)value);
            else if (field == 2 && wire == 0) step = (long)value;
            else if (field == 3 && wire == 2) version = Encoding.UTF8.GetString(bytes!);
            else if (field == 5 && wire == 2) summaries.Add(bytes!);
        }
        var scalars = new List<ScalarEvent>();
        foreach (var summary in summaries)
            foreach (var (field, wire, _, valueBytes) in Fields(summary))
            {
                if (field != 1 || wire != 2) continue;
                string? tag = null; float? simple = null;
                foreach (var (f, w, v, b) in Fields(valueBytes!))
                {
                    if (f == 1 && w == 2) tag = Encoding.UTF8.GetString(b!);
                    else if (f == 2 && w == 5) simple = BitConverter.Int32BitsToSingle((int)v);
                }
                if (tag is not null && simple is not null) scalars.Add(new(wall, step, tag, simple.Value));
            }
        return (scalars, version);
    }

    static IEnumerable<(int Field, int Wire, ulong Value, byte[]? Bytes)> Fields(byte[] msg)
    {
        int pos = 0;
        while (pos < msg.Length)
        {
            ulong key = Varint(msg, ref pos);
            int field = (int)(key >> 3), wire = (int)(key & 7);
            switch (wire)
            {
                case 0: yield return (field, wire, Varint(msg, ref pos), null); break;
                case 1: yield return (field, wire, BinaryPrimitives.ReadUInt64LittleEndian(msg.AsSpan(pos, 8)), null); pos += 8; break;
                case 2:
                    int len = (int)Varint(msg, ref pos);
                    yield return (field, wire, 0, msg.AsSpan(pos, len).ToArray());
                    pos += len;
                    break;
                case 5: yield return (field, wire, BinaryPrimitives.ReadUInt32LittleEndian(msg.AsSpan(pos, 4)), null); pos += 4; break;
                default: throw new InvalidDataException($"wire type {wire}");
            }
        }
    }

    static ulong Varint(byte[] b, ref int pos)
    {
        ulong result = 0;
        for (int shift = 0; ; shift += 7)
        {
            byte x = b[pos++];
            result |= (ulong)(x & 0x7F) << shift;
            if ((x & 0x80) == 0) return result;
        }
    }
}
