#!/usr/bin/env python3
"""Runs llama.cpp's own convert_hf_to_gguf.py on the benchmark checkpoint, with one patch: the benchmark's
byte-level tokenizer is not one of the pre-tokenizers llama.cpp knows by hash, so it is declared "qwen2" (the
MiMo family's pre-tokenizer). The benchmark feeds token ids, so the tokenizer plays no part in the timings.
Weights are converted untouched (the converter dequantizes the FP8 blocks itself, then writes --outtype).

Needs torch, numpy, safetensors, transformers, pyyaml, tqdm in the venv (llama.cpp's gguf-py is used from its
source tree). Run:
    python tools/bench/convert_gguf.py LLAMA_CPP_SOURCE CHECKPOINT_DIR --outfile OUT.gguf --outtype q8_0
"""
import os
import runpy
import sys

llama = os.path.abspath(sys.argv[1])
sys.path[:0] = [llama, os.path.join(llama, "gguf-py")]
from conversion import base  # noqa: E402  (llama.cpp's converter package)

base.TextModel.get_vocab_base_pre = lambda self, tokenizer: "qwen2"
sys.argv = [os.path.join(llama, "convert_hf_to_gguf.py")] + sys.argv[2:]
runpy.run_path(sys.argv[0], run_name="__main__")
