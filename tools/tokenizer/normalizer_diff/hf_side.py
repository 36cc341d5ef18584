#!/usr/bin/env python3
"""Step 1 of deriving LegacyNormalizer's table (see README): Hugging Face's NFC over probe strings.

Usage: python hf_side.py OUT_DIR   (then: java JavaSide.java OUT_DIR)
Writes OUT_DIR/hf-probes.txt: for every code point from U+0080, five probe strings built around it and the UTF-8
hex of their NFC by tokenizers. JavaSide.java writes nfd-pairs.txt, then this script is run again with --pairs to
normalize those.
"""
import os
import sys

from tokenizers import normalizers

PROBES = ("a{c}\u0301{c}\u0316", "{c}", "{c}\u0301", "\u1100{c}", "e{c}")


def main():
    out = sys.argv[1]
    nfc = normalizers.NFC()
    if len(sys.argv) > 2 and sys.argv[2] == "--pairs":
        with open(os.path.join(out, "nfd-pairs.txt")) as f, open(os.path.join(out, "hf-pairs.txt"), "w") as g:
            for line in f:
                c, nfd = line.split()
                g.write("%s %s\n" % (c, nfc.normalize_str(bytes.fromhex(nfd).decode()).encode().hex()))
        return
    with open(os.path.join(out, "hf-probes.txt"), "w") as f:
        for c in range(0x80, 0x110000):
            if 0xD800 <= c <= 0xDFFF:
                continue
            for probe in PROBES:
                f.write("%x %s\n" % (c, nfc.normalize_str(probe.format(c=chr(c))).encode().hex()))


if __name__ == "__main__":
    main()
