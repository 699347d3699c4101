using System;
using System.IO;
using System.Text;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

// Retargets the GLIBCXX_3.4.32 version need of libLibTorchSharp.so to GLIBCXX_3.4.21 (see TorchSharpNativeFix.targets).
public class GlancePatchGlibcxxNeed : Task
{
    const string Library = "libLibTorchSharp.so";
    const string MissingVersion = "GLIBCXX_3.4.32";
    const string SubstituteVersion = "GLIBCXX_3.4.21";
    const uint ShtGnuVerneed = 0x6ffffffe;

    [Required] public string Directory { get; set; } = "";
    public string Force { get; set; } = "";

    static readonly string[] HostLibstdcxxCandidates =
    {
        "/usr/lib/x86_64-linux-gnu/libstdc++.so.6",
        "/usr/lib/aarch64-linux-gnu/libstdc++.so.6",
        "/usr/lib64/libstdc++.so.6",
        "/lib64/libstdc++.so.6",
        "/usr/lib/libstdc++.so.6",
    };

    public override bool Execute()
    {
        if (!System.IO.Directory.Exists(Directory)) return true;
        string[] libraries = System.IO.Directory.GetFiles(Directory, Library, SearchOption.AllDirectories);
        if (libraries.Length == 0) return true;

        bool force = string.Equals(Force, "true", StringComparison.OrdinalIgnoreCase);
        if (!force && HostHasVersion())
        {
            Log.LogMessage(MessageImportance.Low, $"Host libstdc++ provides {MissingVersion}; {Library} left unchanged.");
            return true;
        }

        foreach (string library in libraries)
        {
            try
            {
                if (Patch(library)) Log.LogMessage(MessageImportance.High, $"Retargeted {MissingVersion} need to {SubstituteVersion} in {library}");
            }
            catch (Exception e)
            {
                Log.LogError($"Could not patch {library}: {e.Message}");
            }
        }
        return !Log.HasLoggedErrors;
    }

    static bool HostHasVersion()
    {
        foreach (string candidate in HostLibstdcxxCandidates)
        {
            if (!File.Exists(candidate)) continue;
            byte[] bytes = File.ReadAllBytes(candidate);
            return IndexOf(bytes, Encoding.ASCII.GetBytes(MissingVersion + "\0"), 0) >= 0;
        }
        // No glibc-style libstdc++ found (musl, macOS): patching would not help, leave the file alone.
        return true;
    }

    static bool Patch(string path)
    {
        byte[] elf = File.ReadAllBytes(path);
        if (elf.Length < 64 || elf[0] != 0x7f || elf[1] != (byte)'E' || elf[2] != (byte)'L' || elf[3] != (byte)'F')
            throw new InvalidDataException("not an ELF file");
        if (elf[4] != 2 || elf[5] != 1) throw new InvalidDataException("expected a 64-bit little-endian ELF file");

        ulong shoff = BitConverter.ToUInt64(elf, 0x28);
        int shentsize = BitConverter.ToUInt16(elf, 0x3A);
        int shnum = BitConverter.ToUInt16(elf, 0x3C);

        for (int i = 0; i < shnum; i++)
        {
            int sh = checked((int)shoff + i * shentsize);
            if (BitConverter.ToUInt32(elf, sh + 4) != ShtGnuVerneed) continue;

            int verneedOffset = checked((int)BitConverter.ToUInt64(elf, sh + 24));
            int verneedCount = (int)BitConverter.ToUInt32(elf, sh + 44);
            int strtabHeader = checked((int)shoff + (int)BitConverter.ToUInt32(elf, sh + 40) * shentsize);
            int strtab = checked((int)BitConverter.ToUInt64(elf, strtabHeader + 24));

            int vn = verneedOffset;
            for (int n = 0; n < verneedCount; n++)
            {
                int auxCount = BitConverter.ToUInt16(elf, vn + 2);
                int firstAux = vn + (int)BitConverter.ToUInt32(elf, vn + 8);

                int missing = -1;
                uint substituteName = 0;
                int aux = firstAux;
                for (int a = 0; a < auxCount; a++)
                {
                    string name = ReadString(elf, strtab + (int)BitConverter.ToUInt32(elf, aux + 8));
                    if (name == MissingVersion) missing = aux;
                    if (name == SubstituteVersion) substituteName = BitConverter.ToUInt32(elf, aux + 8);
                    aux += (int)BitConverter.ToUInt32(elf, aux + 12);
                }

                if (missing >= 0)
                {
                    if (substituteName == 0)
                    {
                        int found = IndexOf(elf, Encoding.ASCII.GetBytes(SubstituteVersion + "\0"), strtab);
                        if (found < 0) throw new InvalidDataException($"{SubstituteVersion} is not in the dynamic string table");
                        substituteName = (uint)(found - strtab);
                    }
                    BitConverter.GetBytes(ElfHash(SubstituteVersion)).CopyTo(elf, missing);
                    BitConverter.GetBytes(substituteName).CopyTo(elf, missing + 8);
                    string temp = path + ".patching";
                    File.WriteAllBytes(temp, elf);
                    File.Delete(path); // replaces a hard link rather than writing through it
                    File.Move(temp, path);
                    return true;
                }
                vn += (int)BitConverter.ToUInt32(elf, vn + 12);
            }
        }
        return false;
    }

    static uint ElfHash(string name)
    {
        uint h = 0;
        foreach (char c in name)
        {
            h = (h << 4) + c;
            uint g = h & 0xf0000000;
            if (g != 0) h ^= g >> 24;
            h &= ~g;
        }
        return h;
    }

    static string ReadString(byte[] bytes, int offset)
    {
        int end = offset;
        while (bytes[end] != 0) end++;
        return Encoding.ASCII.GetString(bytes, offset, end - offset);
    }

    static int IndexOf(byte[] haystack, byte[] needle, int start)
    {
        for (int i = start; i <= haystack.Length - needle.Length; i++)
        {
            int j = 0;
            while (j < needle.Length && haystack[i + j] == needle[j]) j++;
            if (j == needle.Length) return i;
        }
        return -1;
    }
}
