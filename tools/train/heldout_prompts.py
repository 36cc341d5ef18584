#!/usr/bin/env python3
"""Held-out Java prompts for measuring speculative decoding on the embedded model (tools/train/speculation.sh).

Takes the held-out files of train_java_model.py's split (file-name hash = 0 mod 50, never trained on) and cuts
COUNT prompts of PROMPT_TOKENS tokens each, ending at a line start inside a method body (indented code), and
writes them as comma-separated token ids, one prompt per line. Venv and corpus as train_java_model.py.
    .venv/bin/python tools/train/heldout_prompts.py --jdk $JAVA_HOME > tools/train/heldout_prompts.ids
"""
import argparse
import os
import random
import sys

from tokenizers import Tokenizer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from train_java_model import read_corpus  # noqa: E402

COUNT, PROMPT_TOKENS = 24, 64


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--jdk", default=os.environ.get("JAVA_HOME"))
    ap.add_argument("--model", default="distribution/model")
    args = ap.parse_args()
    tok = Tokenizer.from_file(os.path.join(args.model, "tokenizer.json"))
    _, held = read_corpus(args.jdk)
    rng = random.Random(7)
    files = rng.sample(held, COUNT)
    for text in files:
        lines = text.split("\n")
        # a line start after which the next line is indented method code, far enough in for a full prompt
        starts = [i for i in range(len(lines) - 1) if lines[i + 1].startswith("        ") and i > 8]
        cut = "\n".join(lines[:rng.choice(starts) + 1]) + "\n" if starts else text[:2000]
        ids = tok.encode(cut).ids[-PROMPT_TOKENS:]
        print(",".join(map(str, ids)))


if __name__ == "__main__":
    main()
