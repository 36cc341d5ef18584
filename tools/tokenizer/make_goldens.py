#!/usr/bin/env python3
"""Trains the small test tokenizer and writes golden ids/decodes from Hugging Face `tokenizers` (Rust).

Needs a venv with tokenizers (made from the machine's local wheel store, no PyPI):
  python3 -m venv .venv && .venv/bin/pip install $WHEEL_STORE tokenizers transformers==5.18.0
  # $WHEEL_STORE: pip options naming the machine's local wheel store, as `pip config list` shows them
  # (its index URLs and find-links folder); no public index is needed.
Usage (from the repository root; see tools/tokenizer/README.md):
  .venv/bin/python tools/tokenizer/make_goldens.py QWEN3_TOKENIZER_JSON bundles/tokenizer/src/test/resources/tokenizer

Writes into the resource folder:
  small/tokenizer.json, small/tokenizer_config.json  the small BPE trained here (merges rewritten as "a b" strings)
  goldens-qwen3.jsonl.gz, goldens-small.jsonl.gz     per corpus line: {"ids": [...], "decoded": text or null}
                                                      ("decoded" is null when it equals the line after surrogates
                                                      are replaced, see below)
  decode-qwen3.jsonl.gz                               random id sequences (broken UTF-8 included) and their decode
Unpaired surrogates: Python strings (like Rust's) cannot be passed to tokenizers with them, so each unpaired
surrogate is replaced by U+FFFD first, as Rust's String::from_utf16_lossy does; the Java tokenizer does the same.
"""
import gzip
import json
import os
import random
import sys

from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers

QWEN2_PATTERN = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|"
                 r"\s*[\r\n]+|\s+(?!\S)|\s+")


def lossy(s):
    """Replaces each unpaired surrogate with U+FFFD (Rust String::from_utf16_lossy)."""
    out = []
    i = 0
    while i < len(s):
        c = s[i]
        if 0xD800 <= ord(c) <= 0xDBFF and i + 1 < len(s) and 0xDC00 <= ord(s[i + 1]) <= 0xDFFF:
            out.append(chr(0x10000 + ((ord(c) - 0xD800) << 10) + (ord(s[i + 1]) - 0xDC00)))
            i += 2
            continue
        out.append("\ufffd" if 0xD800 <= ord(c) <= 0xDFFF else c)
        i += 1
    return "".join(out)


def read_corpus(path):
    with gzip.open(path, "rt", encoding="ascii") as f:
        return [json.loads(line) for line in f]


def write_jsonl(path, rows):
    with gzip.GzipFile(path, "wb", mtime=0, compresslevel=9) as f:
        for row in rows:
            f.write((json.dumps(row, separators=(",", ":")) + "\n").encode("ascii"))
    print(path, os.path.getsize(path))


def goldens(tok, lines):
    rows = []
    for line in lines:
        text = lossy(line)
        ids = tok.encode(text, add_special_tokens=False).ids
        decoded = tok.decode(ids, skip_special_tokens=False)
        rows.append({"ids": ids, "decoded": None if decoded == text else decoded})
    return rows


def train_small(lines, out_dir):
    tok = Tokenizer(models.BPE())
    tok.normalizer = normalizers.Sequence([normalizers.NFC()])
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(QWEN2_PATTERN), behavior="isolated"),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=1200, min_frequency=2, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator([lossy(s) for s in lines], trainer)
    tok.add_special_tokens([AddedToken("<|endoftext|>", normalized=False),
                            AddedToken("<|im_start|>", normalized=False),
                            AddedToken("<|im_end|>", normalized=False),
                            AddedToken("<mask>", lstrip=True, normalized=False),
                            AddedToken("<rs>", rstrip=True, normalized=False)])
    tok.add_tokens([AddedToken("<think>", special=False), AddedToken("</think>", special=False),
                    AddedToken("word", single_word=True, normalized=False, special=False),
                    AddedToken("\u00c5x", normalized=True, special=False)])
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, "tokenizer.json")
    data = json.loads(tok.to_str())
    # Older files store merges as "a b" strings; the loader must take both forms, so the small one uses this one.
    data["model"]["merges"] = [" ".join(m) for m in data["model"]["merges"]]
    with open(path, "w", encoding="utf-8") as f:
        json.dump(data, f, ensure_ascii=False, separators=(",", ":"))
    with open(os.path.join(out_dir, "tokenizer_config.json"), "w", encoding="utf-8") as f:
        json.dump({"eos_token": "<|im_end|>", "pad_token": "<|endoftext|>", "bos_token": None}, f, indent=2)
    return Tokenizer.from_file(path)


def random_decodes(tok, rng):
    vocab = tok.get_vocab_size(with_added_tokens=True)
    rows = []
    for _ in range(1500):
        n = rng.randint(1, 12)
        pool = rng.choice(["bytes", "any", "mixed"])
        ids = []
        for _ in range(n):
            if pool == "bytes" or (pool == "mixed" and rng.random() < 0.5):
                ids.append(rng.randint(0, 255))
            else:
                ids.append(rng.randint(0, vocab - 1))
        rows.append({"ids": ids, "text": tok.decode(ids, skip_special_tokens=False)})
    return rows


def main():
    qwen_path, out = sys.argv[1], sys.argv[2]
    lines = read_corpus(os.path.join(out, "corpus.jsonl.gz"))
    small = train_small(lines[::4], os.path.join(out, "small"))
    write_jsonl(os.path.join(out, "goldens-small.jsonl.gz"), goldens(small, lines[::8]))
    qwen = Tokenizer.from_file(qwen_path)
    write_jsonl(os.path.join(out, "goldens-qwen3.jsonl.gz"), goldens(qwen, lines))
    write_jsonl(os.path.join(out, "decode-qwen3.jsonl.gz"), random_decodes(qwen, random.Random(7)))


if __name__ == "__main__":
    main()
