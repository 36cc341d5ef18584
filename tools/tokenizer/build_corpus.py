#!/usr/bin/env python3
"""Builds the tokenizer test corpus deterministically (no randomness without a fixed seed, sorted file lists).

Usage: python3 build_corpus.py OUT.jsonl.gz [JDK_HOME]

Each output line is one JSON string (a corpus "line": a paragraph or a generated case). JSON is used so that
lines can carry newlines and unpaired UTF-16 surrogates ("\\ud800"), which Java strings can hold but UTF-8 files
cannot. Sources: the JDK's lib/src.zip (Java), the Python standard library, C headers, npm's JavaScript,
/usr/share/doc prose (copyright files, changelogs), and generated cases (CJK, emoji and ZWJ sequences, mixed
whitespace, digit runs, special tokens inside text, surrogates, a sweep over the Basic Multilingual Plane).
"""
import glob
import gzip
import json
import os
import random
import sys
import zipfile

CHUNK = 1500


def chunks(text):
    """Splits a text into paragraph groups of about CHUNK characters (blank-line boundaries kept inside)."""
    out, cur = [], ""
    for para in text.split("\n\n"):
        piece = para + "\n\n"
        if cur and len(cur) + len(piece) > CHUNK:
            out.append(cur)
            cur = ""
        cur += piece
        while len(cur) > 3 * CHUNK:
            out.append(cur[:CHUNK])
            cur = cur[CHUNK:]
    if cur:
        out.append(cur)
    return out


def take(texts, budget):
    """Chunks of the given texts until about budget characters."""
    out, size = [], 0
    for t in texts:
        for c in chunks(t):
            out.append(c)
            size += len(c)
            if size >= budget:
                return out
    return out


def read(path):
    with open(path, "rb") as f:
        data = f.read()
    if path.endswith(".gz"):
        data = gzip.decompress(data)
    return data.decode("utf-8", errors="replace")


def every(paths, step):
    return [p for i, p in enumerate(sorted(paths)) if i % step == 0]


def java_sources(jdk):
    z = zipfile.ZipFile(os.path.join(jdk, "lib", "src.zip"))
    names = every([n for n in z.namelist() if n.endswith(".java")], 97)
    return [z.read(n).decode("utf-8", errors="replace") for n in names]


def generated(rng):
    out = []
    cjk = [(0x4E00, 0x9FFF), (0x3040, 0x309F), (0x30A0, 0x30FF), (0xAC00, 0xD7A3), (0x3000, 0x303F), (0xFF00, 0xFFEF)]
    for _ in range(400):
        s = []
        for _ in range(rng.randint(5, 120)):
            lo, hi = rng.choice(cjk)
            s.append(chr(rng.randint(lo, hi)))
            if rng.random() < 0.1:
                s.append(rng.choice(["，", "。", " ", "\n", "a", "1", "！", "Qwen"]))
        out.append("".join(s))
    base = ["😀", "👍", "❤️", "🇯🇵", "🇺🇸", "🏳️‍🌈", "👨‍👩‍👧‍👦", "👩🏽‍💻", "🧑🏿‍🤝‍🧑🏻", "1️⃣", "#️⃣", "✌🏾", "🫠", "🐈‍⬛",
            "👁️‍🗨️", "🤷‍♀️", "\u200d", "\ufe0f", "🏴󠁧󠁢󠁳󠁣󠁴󠁿"]
    for _ in range(300):
        out.append("".join(rng.choice(base + [" ", "a", "\n", "!", "中"]) for _ in range(rng.randint(1, 40))))
    spaces = [" ", "  ", "\t", "\n", "\r\n", "\r", "\u00a0", "\u2000", "\u2003", "\u200a", "\u3000", "\u0085",
              "\u2028", "\u2029", "\u180e", "\u200b", "\ufeff", "\u000b", "\u000c", "\u202f", "\u205f", "\u1680"]
    words = ["word", "x", "Hello", "'s", "'S", "'ll", "'ſ", "'RE", "don't", "1234", "==", "(", "é", "e\u0301", "ü",
             "Å", "\u212b", "\u1100\u1161\u11a8", "fi", "\ufb01"]
    for _ in range(600):
        out.append("".join(rng.choice(spaces + words) for _ in range(rng.randint(1, 30))))
    for _ in range(300):
        n = rng.randint(1, 400)
        digits = "".join(rng.choice("0123456789") for _ in range(n))
        out.append(rng.choice(["", "x", " ", "v", "$"]) + digits + rng.choice(["", ".5", ",000", "th", " ", "\n"]))
    out += ["١٢٣٤٥ ٦٧", "１２３４５", "²³¹ ½ ⅓ Ⅻ ⅷ", "𝟘𝟙𝟚", "〇一二三"]
    specials = ["<|im_start|>", "<|im_end|>", "<|endoftext|>", "<think>", "</think>", "<tool_call>", "</tool_call>",
                "<|vision_start|>", "<|im_st", "<|im_end", "<think", "think>", "<", "|>", "<mask>", "<rs>", "word"]
    for _ in range(600):
        out.append("".join(rng.choice(specials + words + spaces + ["user", "\nassistant\n", "abc", "😀"])
                           for _ in range(rng.randint(1, 25))))
    surrogates = ["\ud800", "\udbff", "\udc00", "\udfff", "\udc00\ud800", "\ud83d", "\ude00"]
    for _ in range(200):
        out.append("".join(rng.choice(surrogates + words + [" ", "😀", "\n"]) for _ in range(rng.randint(1, 12))))
    # Added tokens with lstrip/rstrip/single_word/normalized flags (the small tokenizer has them) in contexts.
    flagged = ["<mask>", "<rs>", "word", "\u00c5x", "A\u030ax", "\u212bx", "<think>", "<|im_end|>"]
    around = [" ", "  ", "\t", "\n", "\u3000", "\u00a0", "a", "_", "\u00e9", "1", "(", ")", "sword", "words", ""]
    for _ in range(800):
        out.append("".join(rng.choice(around) + rng.choice(flagged) + rng.choice(around)
                           for _ in range(rng.randint(1, 6))))
    # Sweep over the BMP (surrogates excluded) and a slice of the astral planes: checks \p{L}, \p{N}, \s tables.
    cps = [c for c in range(0x20, 0x10000) if not 0xD800 <= c <= 0xDFFF] + list(range(0x1F000, 0x1FB00))
    cps += list(range(0x10000, 0x10400)) + list(range(0x1D400, 0x1D800)) + list(range(0x20000, 0x20100))
    for i in range(0, len(cps), 300):
        seg = [chr(c) for c in cps[i:i + 300]]
        for j in range(0, len(seg), 7):
            seg[j] = seg[j] + rng.choice([" ", "a", "1", "'s", "\n", ""])
        out.append("".join(seg))
    return out


def main():
    out_path = sys.argv[1]
    jdk = sys.argv[2] if len(sys.argv) > 2 else os.environ["JAVA_HOME"]
    rng = random.Random(20261122)
    lines = []
    lines += take(java_sources(jdk), 260_000)
    lines += take([read(p) for p in every(glob.glob("/usr/lib/python3.11/*.py"), 3)], 160_000)
    lines += take([read(p) for p in every(glob.glob("/usr/include/*.h"), 2)], 90_000)
    lines += take([read(p) for p in every(glob.glob("/usr/lib/node_modules/npm/lib/**/*.js", recursive=True), 2)],
                  90_000)
    lines += take([read(p) for p in every(glob.glob("/usr/share/doc/*/copyright"), 3)], 160_000)
    lines += take([read(p) for p in every(glob.glob("/usr/share/doc/*/changelog.Debian.gz"), 9)], 120_000)
    lines += generated(rng)
    with gzip.GzipFile(out_path, "wb", mtime=0) as f:
        for line in lines:
            f.write((json.dumps(line) + "\n").encode("ascii"))
    size = sum(len(s.encode("utf-8", errors="surrogatepass")) for s in lines)
    print(f"{len(lines)} lines, {size} UTF-8 bytes -> {out_path}")


if __name__ == "__main__":
    main()
