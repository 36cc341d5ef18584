#!/usr/bin/env python3
"""Frequency table for the draft heads' shortlist vocabulary (bundles/mtp: Shortlist.java, FR-Spec style).

Tokenizes a corpus with the model's tokenizer.json, counts every id, and writes MODEL/draft_shortlist.tsv.gz:
gzipped `id count` lines, most frequent first (ties: lower id first), every id that occurs. The node's draft
heads then draft among the `shortlist` most frequent ids (configuration PID io.tessera.mtp); verification stays
exact over the full vocabulary, so only acceptance and draft cost change. tools/train/shortlist_acceptance.sh
measures the acceptance each N gives.

The corpus is a .zip (e.g. the JDK's lib/src.zip, as the embedded model was trained on), a folder or a file;
--suffix keeps matching names; --skip-mod M leaves out files whose name's CRC-32 is 0 mod M (the embedded model's
held-out files: M = 50), so prompts measured later are not in the table.

    .venv/bin/python tools/train/draft_shortlist.py --model distribution/model \
        --corpus $JAVA_HOME/lib/src.zip --suffix .java --skip-mod 50
"""
import argparse
import collections
import gzip
import os
import zipfile
import zlib

from tokenizers import Tokenizer


def texts(corpus, suffix, skip_mod):
    """(name, text) of every file of the corpus whose name ends with suffix, held-out names left out."""
    def keep(name):
        return name.endswith(suffix) and not (skip_mod and zlib.crc32(name.encode()) % skip_mod == 0)
    if zipfile.is_zipfile(corpus):
        with zipfile.ZipFile(corpus) as z:
            for name in sorted(n for n in z.namelist() if keep(n)):
                yield name, z.read(name).decode("utf-8", "replace")
    elif os.path.isdir(corpus):
        for root, _, files in sorted(os.walk(corpus)):
            for f in sorted(files):
                path = os.path.join(root, f)
                if keep(os.path.relpath(path, corpus)):
                    with open(path, encoding="utf-8", errors="replace") as fh:
                        yield path, fh.read()
    else:
        with open(corpus, encoding="utf-8", errors="replace") as fh:
            yield corpus, fh.read()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default="distribution/model")
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--suffix", default="")
    ap.add_argument("--skip-mod", type=int, default=0)
    ap.add_argument("--max-bytes", type=float, default=48e6, help="stop after this much text")
    args = ap.parse_args()
    tok = Tokenizer.from_file(os.path.join(args.model, "tokenizer.json"))
    counts = collections.Counter()
    files = size = 0
    batch = []
    for _, text in texts(args.corpus, args.suffix, args.skip_mod):
        batch.append(text)
        files += 1
        size += len(text)
        if len(batch) == 256 or size >= args.max_bytes:
            for enc in tok.encode_batch(batch):
                counts.update(enc.ids)
            batch = []
        if size >= args.max_bytes:
            break
    for enc in tok.encode_batch(batch):
        counts.update(enc.ids)
    ranked = sorted(counts.items(), key=lambda e: (-e[1], e[0]))
    total = sum(counts.values())
    out = os.path.join(args.model, "draft_shortlist.tsv.gz")
    with gzip.open(out, "wt", encoding="utf-8", compresslevel=9) as fh:
        fh.write(f"# draft shortlist: ids by frequency in {os.path.basename(args.corpus)} ({files} files, "
                 f"{total} tokens), most frequent first\n")
        for token, count in ranked:
            fh.write(f"{token} {count}\n")
    cover = 0
    marks = {}
    for i, (_, count) in enumerate(ranked, 1):
        cover += count
        for n in (64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768):
            if i == n:
                marks[n] = cover / total
    print(f"{out}: {len(ranked)} ids of {tok.get_vocab_size()} occur in {total} tokens; "
          + ", ".join(f"top {n} cover {share:.1%}" for n, share in marks.items()))


if __name__ == "__main__":
    main()
