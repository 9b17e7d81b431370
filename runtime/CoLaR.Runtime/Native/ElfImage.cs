using System.Buffers.Binary;
using System.Text;

namespace CoLaR.Native;

/// <summary>
/// A minimal reader (and one-flag patcher) for 64-bit little-endian ELF shared libraries: just the
/// dynamic-linking facts the native loader needs — which libraries a file needs (DT_NEEDED), which
/// symbol versions it requires from each (verneed), which it defines (verdef), and which dynamic
/// symbols are bound to a required version.
/// </summary>
public sealed class ElfImage
{
    const uint ShtDynamic = 6, ShtDynsym = 11, ShtGnuVerdef = 0x6ffffffd, ShtGnuVerneed = 0x6ffffffe, ShtGnuVersym = 0x6fffffff;
    const ushort VerFlagWeak = 0x2;

    readonly byte[] _bytes;
    readonly List<Section> _sections = new();

    readonly record struct Section(uint Type, long Offset, long Size, uint Link, long EntrySize);

    /// <summary>One required symbol version: <c>GLIBCXX_3.4.32</c> from <c>libstdc++.so.6</c>.</summary>
    public sealed record VersionNeed(string Library, string Version, ushort Index, bool Weak, int FlagsOffset);

    public string Path { get; }

    public ElfImage(string path, byte[] bytes)
    {
        Path = path;
        _bytes = bytes;
        if (bytes.Length < 64 || bytes[0] != 0x7F || bytes[1] != (byte)'E' || bytes[2] != (byte)'L' || bytes[3] != (byte)'F')
            throw new InvalidDataException($"{path}: not an ELF file");
        if (bytes[4] != 2 || bytes[5] != 1)
            throw new InvalidDataException($"{path}: only 64-bit little-endian ELF is supported");
        long shoff = I64(0x28);
        int shentsize = U16(0x3A), shnum = U16(0x3C);
        if (shoff <= 0 || shentsize < 64 || shoff + (long)shnum * shentsize > bytes.Length)
            throw new InvalidDataException($"{path}: section header table lies outside the file");
        for (int i = 0; i < shnum; i++)
        {
            long h = shoff + (long)i * shentsize;
            var s = new Section(U32(h + 4), I64(h + 0x18), I64(h + 0x20), U32(h + 0x28), I64(h + 0x38));
            _sections.Add(s);
        }
    }

    public static ElfImage Load(string path) => new(path, File.ReadAllBytes(path));

    /// <summary>The file's bytes (patched in place by <see cref="MarkVersionsWeak"/>).</summary>
    public byte[] Bytes => _bytes;

    /// <summary>DT_NEEDED entries: the libraries this one links against, in link order.</summary>
    public IReadOnlyList<string> NeededLibraries()
    {
        var result = new List<string>();
        foreach (var s in _sections.Where(s => s.Type == ShtDynamic))
        {
            var strtab = _sections[(int)s.Link];
            for (long e = s.Offset; e + 16 <= s.Offset + s.Size; e += 16)
            {
                long tag = I64(e);
                if (tag == 0) break;
                if (tag == 1) result.Add(CString(strtab.Offset + I64(e + 8)));
            }
        }
        return result;
    }

    /// <summary>Every symbol version this file requires, per library (the .gnu.version_r section).</summary>
    public IReadOnlyList<VersionNeed> VersionNeeds()
    {
        var result = new List<VersionNeed>();
        foreach (var s in _sections.Where(s => s.Type == ShtGnuVerneed))
        {
            long strtab = _sections[(int)s.Link].Offset;
            long vn = s.Offset;
            for (int guard = 0; guard < 10_000; guard++)
            {
                int count = U16(vn + 2);
                string library = CString(strtab + U32(vn + 4));
                long aux = vn + U32(vn + 8);
                for (int j = 0; j < count; j++)
                {
                    ushort flags = (ushort)U16(aux + 4);
                    result.Add(new VersionNeed(library, CString(strtab + U32(aux + 8)), (ushort)U16(aux + 6),
                        (flags & VerFlagWeak) != 0, checked((int)(aux + 4))));
                    uint nextAux = U32(aux + 12);
                    if (nextAux == 0) break;
                    aux += nextAux;
                }
                uint next = U32(vn + 12);
                if (next == 0) break;
                vn += next;
            }
        }
        return result;
    }

    /// <summary>Every symbol version this file defines (the .gnu.version_d section): what a library provides.</summary>
    public IReadOnlySet<string> VersionDefinitions()
    {
        var result = new HashSet<string>(StringComparer.Ordinal);
        foreach (var s in _sections.Where(s => s.Type == ShtGnuVerdef))
        {
            long strtab = _sections[(int)s.Link].Offset;
            long vd = s.Offset;
            for (int guard = 0; guard < 10_000; guard++)
            {
                int count = U16(vd + 6);
                long aux = vd + U32(vd + 12);
                for (int j = 0; j < count; j++)
                {
                    result.Add(CString(strtab + U32(aux)));
                    uint nextAux = U32(aux + 4);
                    if (nextAux == 0) break;
                    aux += nextAux;
                }
                uint next = U32(vd + 16);
                if (next == 0) break;
                vd += next;
            }
        }
        return result;
    }

    /// <summary>The dynamic symbols bound to a required version index (for example the one symbol behind GLIBCXX_3.4.32).</summary>
    public IReadOnlyList<string> SymbolsRequiring(ushort versionIndex)
    {
        var dynsym = _sections.FirstOrDefault(s => s.Type == ShtDynsym);
        var versym = _sections.FirstOrDefault(s => s.Type == ShtGnuVersym);
        if (dynsym.Type == 0 || versym.Type == 0) return Array.Empty<string>();
        long strtab = _sections[(int)dynsym.Link].Offset;
        long count = dynsym.Size / 24;
        var result = new List<string>();
        for (long i = 0; i < count; i++)
        {
            int index = U16(versym.Offset + 2 * i) & 0x7fff;
            if (index == versionIndex) result.Add(CString(strtab + U32(dynsym.Offset + 24 * i)));
        }
        return result;
    }

    /// <summary>Sets VER_FLG_WEAK on the named required versions: the dynamic loader then accepts a
    /// library that lacks them (it only warns under LD_DEBUG). Returns how many entries changed.</summary>
    public int MarkVersionsWeak(IEnumerable<string> versions)
    {
        var wanted = new HashSet<string>(versions, StringComparer.Ordinal);
        int changed = 0;
        foreach (var need in VersionNeeds().Where(n => wanted.Contains(n.Version) && !n.Weak))
        {
            ushort flags = BinaryPrimitives.ReadUInt16LittleEndian(_bytes.AsSpan(need.FlagsOffset));
            BinaryPrimitives.WriteUInt16LittleEndian(_bytes.AsSpan(need.FlagsOffset), (ushort)(flags | VerFlagWeak));
            changed++;
        }
        return changed;
    }

    int U16(long at) => at >= 0 && at + 2 <= _bytes.Length ? BinaryPrimitives.ReadUInt16LittleEndian(_bytes.AsSpan((int)at)) : throw Outside(at);
    uint U32(long at) => at >= 0 && at + 4 <= _bytes.Length ? BinaryPrimitives.ReadUInt32LittleEndian(_bytes.AsSpan((int)at)) : throw Outside(at);
    long I64(long at) => at >= 0 && at + 8 <= _bytes.Length ? BinaryPrimitives.ReadInt64LittleEndian(_bytes.AsSpan((int)at)) : throw Outside(at);

    string CString(long at)
    {
        if (at < 0 || at >= _bytes.Length) throw Outside(at);
        int end = Array.IndexOf(_bytes, (byte)0, (int)at);
        if (end < 0) throw Outside(at);
        return Encoding.ASCII.GetString(_bytes, (int)at, end - (int)at);
    }

    InvalidDataException Outside(long at) => new($"{Path}: offset {at} lies outside the file ({_bytes.Length} bytes)");
}
