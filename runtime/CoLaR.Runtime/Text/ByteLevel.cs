using System.Text;

namespace CoLaR.Text;

/// <summary>
/// The GPT-2 byte-level alphabet: every byte 0..255 is mapped to one printable character so that BPE
/// vocabularies can be stored as strings (a space becomes 'Ġ', a newline 'Ċ'). Byte-level BPE files
/// (GPT-2, Llama-3, Qwen2/3) store their tokens in this form.
/// </summary>
internal static class ByteLevel
{
    static readonly char[] s_byteToChar = BuildTable();

    /// <summary>The character that stands for <paramref name="b"/> in byte-level vocabularies.</summary>
    public static char CharOf(byte b) => s_byteToChar[b];

    /// <summary>The byte-level form of a text: its UTF-8 bytes, each replaced by its character.</summary>
    public static string Encode(string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        var chars = new char[bytes.Length];
        for (int i = 0; i < bytes.Length; i++) chars[i] = s_byteToChar[bytes[i]];
        return new string(chars);
    }

    static char[] BuildTable()
    {
        // Printable bytes keep their own character; the others (control characters, space, 0x7F..0xA0, 0xAD)
        // are moved, in byte order, to 256, 257, ... — the convention every byte-level BPE file uses.
        var table = new char[256];
        int next = 0;
        for (int b = 0; b < 256; b++)
        {
            bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            table[b] = printable ? (char)b : (char)(256 + next++);
        }
        return table;
    }
}
