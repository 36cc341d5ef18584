#!/usr/bin/env python3
"""Renders the test conversations with transformers' apply_chat_template: the chat goldens of the tokenizer bundle.

Needs the venv described in make_goldens.py (transformers==5.18.0). Usage, from the repository root:
  .venv/bin/python tools/tokenizer/make_chat_goldens.py
Reads bundles/tokenizer/src/test/resources/tokenizer/chat/conversations.json (OpenAI messages + tools) and writes
goldens.json.gz beside it, every conversation with add_generation_prompt and enable_thinking each true and false, for
- qwen3: the chat_template of tools/fixtures/models/qwen3-tiny (Qwen3's own, as the hub ships it);
- mimo: the tokenizer bundle's MiMo template (its default for a checkpoint without a chat_template);
- llama3: the chat_template of tools/fixtures/models/llama3-tiny (Llama 3.1 / 3.2's, tools/families/
  llama31_chat_template.jinja), with date_string "26 Jul 2024" (the template's own fallback; transformers would
  otherwise put today's date) and that fixture's bos_token. Where the template raises (Llama 3.1 takes one tool
  call per assistant turn), the golden holds the exception's message under "error" instead of "text".
"""
import gzip
import json
import os

from transformers import AutoTokenizer

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
OUT = os.path.join(ROOT, "bundles", "tokenizer", "src", "test", "resources", "tokenizer", "chat")
MODELS = os.path.join(ROOT, "tools", "fixtures", "models")
LLAMA_DATE = "26 Jul 2024"
MIMO_TEMPLATE = "bundles/tokenizer/src/main/resources/io/tessera/tokenizer/mimo_chat_template.jinja"


def main():
    qwen3 = AutoTokenizer.from_pretrained(os.path.join(MODELS, "qwen3-tiny"))
    llama3 = AutoTokenizer.from_pretrained(os.path.join(MODELS, "llama3-tiny"))
    with open(os.path.join(OUT, "conversations.json"), encoding="utf-8") as f:
        conversations = json.load(f)
    with open(os.path.join(ROOT, MIMO_TEMPLATE), encoding="utf-8") as f:
        mimo = f.read()
    renderers = {"qwen3": (qwen3, qwen3.chat_template, {}), "mimo": (qwen3, mimo, {}),
                 "llama3": (llama3, llama3.chat_template, {"date_string": LLAMA_DATE})}
    goldens = []
    for name, (tok, template, extra) in renderers.items():
        for i, conv in enumerate(conversations):
            for gen in (True, False):
                for thinking in (True, False):
                    golden = {"template": name, "conversation": i, "add_generation_prompt": gen,
                              "enable_thinking": thinking}
                    try:
                        golden["text"] = tok.apply_chat_template(
                            conv["messages"], tools=conv["tools"] or None, tokenize=False,
                            add_generation_prompt=gen, enable_thinking=thinking, chat_template=template, **extra)
                    except Exception as e:  # the template's raise_exception
                        golden["error"] = str(e)
                    goldens.append(golden)
    with gzip.GzipFile(os.path.join(OUT, "goldens.json.gz"), "wb", mtime=0) as f:
        f.write(json.dumps(goldens, ensure_ascii=False, indent=1).encode("utf-8"))
    print(len(goldens), "renderings,", sum("error" in g for g in goldens), "raise")


if __name__ == "__main__":
    main()
