#!/usr/bin/env python3
"""Reference goldens for the tiny MiMo-V2-Flash fixtures (tools/fixtures/models), read by the Java tests.

For each hub fixture: runs Hugging Face transformers' native `mimo_v2_flash` model (float32, eager
attention) on the dequantized weights (native_port.py builds its config by hand from the hub config),
checks it against the independent spec-text implementation mimo_reference.py, and writes
tools/reference/goldens/<fixture>/: logits at every position of a prompt shorter than the window and of
one about 4 windows long, 32-token greedy continuations with their top1-top2 margins, the final-normed
hidden states of an MTP prompt and the logits of the 3 MTP blocks on it (mtp_reference.py), routing
margins, and goldens.json describing it all. Arrays are float32 .npy (version 1.0, little-endian, C order).
See tools/reference/README.md for the layout and conventions.

Venv (the machine's local wheel store, no PyPI):
    python3 -m venv .venv && .venv/bin/pip install $WHEEL_STORE \
        torch transformers==5.18.0 safetensors tokenizers ml_dtypes numpy
    # $WHEEL_STORE: pip options naming the machine's local wheel store, as `pip config list` shows them
    # (its index URLs and find-links folder); no public index is needed.
Run from the repository root after tools/fixtures/make_fixtures.py (and tools/train for the embedded model):
    .venv/bin/python tools/reference/make_goldens.py [NAME ...]     # default: every entry of FIXTURES
It fails (non-zero exit) if the port and the independent reference disagree beyond 1e-5 relative.
"""
import gzip
import json
import os
import shutil
import sys

import numpy as np
import torch
from tokenizers import Tokenizer

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
MODELS = os.path.join(ROOT, "tools", "fixtures", "models")
OUT = os.path.join(HERE, "goldens")
sys.path.insert(0, HERE)

import mimo_reference  # noqa: E402
import mtp_reference  # noqa: E402
from native_port import RoutingMargins, build_model, load_hub, mtp_block_model  # noqa: E402

# name -> (checkpoint directory under the repository root, prompt text, windows spanned by the long prompt)
FIXTURES = {"tiny-a": ("tools/fixtures/models/tiny-a", "prose", 4),
            "tiny-b": ("tools/fixtures/models/tiny-b", "prose", 4),
            # The embedded default model (tools/train): Java prompts; a shorter long prompt keeps its goldens small.
            "tessera-java-mini": ("distribution/model", "java", 2)}
NATIVE_COPIES = {"tiny-a": "tiny-a-native"}
GREEDY_TOKENS = 32
AGREEMENT = 1e-5  # port vs independent reference: max |diff| / max |logit|
TOLERANCE = 1e-3  # intended for the Java tests: max |diff| <= 1e-3 * max |logit|

TEXT = {"prose": ("The sliding window keeps only the most recent keys, while the global layers see the whole context. "
        "Each expert is a small gated network and the router picks a few of them for every token. "
        "public final class Window { private final int size; public Window(int size) { this.size = size; } "
        "public int size() { return size; } @Override public String toString() { return \"Window[\" + size + \"]\"; } } "
        "The sink logit absorbs attention mass that no key deserves, so the weights may sum to less than one. "),
        "java": ("    /**\n     * Returns the index of the first element equal to the given key, or -1.\n     */\n"
                 "    public static int indexOf(int[] array, int key) {\n        for (int i = 0; i < array.length; i++) {\n"
                 "            if (array[i] == key) {\n                return i;\n            }\n        }\n"
                 "        return -1;\n    }\n\n    @Override\n    public String toString() {\n"
                 "        StringBuilder sb = new StringBuilder(\"[\");\n        for (int i = 0; i < size; i++) {\n"
                 "            if (i > 0) {\n                sb.append(\", \");\n            }\n"
                 "            sb.append(elements[i]);\n        }\n        return sb.append(']').toString();\n    }\n")}
GREEDY = {
    "prose": {
        "greedy_code": "public static int max(int a, int b) {",
        "greedy_chat": "<|im_start|>user\nWrite a loop over a list.<|im_end|>\n<|im_start|>assistant\n<think></think>",
        "greedy_text": "The router picks",
    },
    "java": {  # greedy_main is the README's main job (.ci/run checks the node's output against it)
        "greedy_main": "public static int max(",
        "greedy_method": "    public boolean isEmpty() {\n",
        "greedy_loop": "        for (int i = 0; i < n; i++) {\n",
    },
}


def prefix_of(tok, text, n):
    """The shortest word prefix of text that encodes to at least n tokens, and its ids."""
    words = text.split(" ")
    for i in range(1, len(words) + 1):
        part = " ".join(words[:i])
        ids = tok.encode(part).ids
        if len(ids) >= n:
            return part, ids
    raise ValueError(f"text too short for {n} tokens")


def longest_prefix_within(tok, text, n):
    """The longest character prefix of text that encodes to at most n tokens, and its ids."""
    best = None
    for i in range(1, len(text) + 1):
        ids = tok.encode(text[:i]).ids
        if len(ids) > n:
            break
        best = text[:i], ids
    return best


def golden_prompts(name, tok):
    """Prompt list of a fixture: kind 'logits', 'greedy' or 'mtp', with text and ids."""
    directory, kind_of_text, windows = FIXTURES[name]
    source = TEXT[kind_of_text]
    window = json.load(open(os.path.join(ROOT, directory, "config.json")))["sliding_window"]
    text, ids = longest_prefix_within(tok, source, window - 2)
    prompts = [dict(name="short", kind="logits", text=text, ids=ids)]
    for pname, kind, n in (("long", "logits", windows * window + 3), ("mtp", "mtp", window + 8)):
        text, ids = prefix_of(tok, source, n)
        prompts.append(dict(name=pname, kind=kind, text=text, ids=ids))
    for pname, text in GREEDY[kind_of_text].items():
        prompts.append(dict(name=pname, kind="greedy", text=text, ids=tok.encode(text).ids))
    return prompts


def relative_diff(a, b):
    return (a - b).abs().max().item() / b.abs().max().item()


def save_npy(directory, fname, array):
    """A float32 .npy, gzip-compressed (fname ends in .npy.gz; mtime 0 keeps reruns byte-identical)."""
    with gzip.GzipFile(os.path.join(directory, fname), "wb", mtime=0, compresslevel=9) as f:
        np.save(f, np.ascontiguousarray(array.detach().numpy(), dtype="<f4"))


class Fixture:
    def __init__(self, name):
        self.name = name
        self.dir = os.path.join(ROOT, FIXTURES[name][0])
        self.tok = Tokenizer.from_file(os.path.join(self.dir, "tokenizer.json"))
        self.tokens = self.tok.get_vocab_size(with_added_tokens=True)
        self.cfg, self.weights = load_hub(self.dir)
        self.model = build_model(self.cfg, self.weights)
        self.routing = RoutingMargins(self.model)
        _, self.ref_weights = mimo_reference.load_checkpoint(self.dir)
        self.agreement = {}

    def port(self, ids):
        with torch.no_grad():
            out = self.model.model(torch.tensor([ids]))
            hidden = out.last_hidden_state[0]
            return self.model.lm_head(hidden), hidden

    def check(self, label, ids):
        """Port logits, port hidden, smallest routing margin and reference hidden for ids, after checking the
        port against the independent reference."""
        start = len(self.routing.margins)
        logits, hidden = self.port(ids)
        margins = self.routing.margins[start:]
        ref_logits, ref_hidden, ref_margins = mimo_reference.forward(self.cfg, self.ref_weights, ids)
        diff = relative_diff(logits, ref_logits)
        self.agreement[label] = diff
        if diff > AGREEMENT:
            raise AssertionError(f"{self.name}/{label}: port vs reference relative diff {diff:.2e}")
        if len(margins) != len(ref_margins) or any(abs(a - b) > 1e-5 for a, b in zip(sorted(margins), sorted(ref_margins))):
            raise AssertionError(f"{self.name}/{label}: routing margins differ between port and reference")
        return logits, hidden, min(margins) if margins else None, ref_hidden

    def greedy(self, ids):
        """greedy() below, cross-checked against transformers' generate() with its KV cache."""
        seq, margins = greedy(self.model, ids, self.tokens)
        padding = list(range(self.tokens, self.cfg["vocab_size"]))
        with torch.no_grad():
            cached = self.model.generate(torch.tensor([ids]), max_new_tokens=GREEDY_TOKENS, do_sample=False,
                                         eos_token_id=None, suppress_tokens=padding)[0].tolist()
        if cached != seq:
            raise AssertionError(f"{self.name}: generate() with KV cache disagrees with full recomputation")
        return seq, margins


def greedy(model, ids, n_valid):
    """32 greedy tokens by full recomputation over ids < n_valid (padding rows masked, spec §3; no stop at
    eos), with the top1-top2 logit margin of each step."""
    seq, margins = list(ids), []
    with torch.no_grad():
        for _ in range(GREEDY_TOKENS):
            top = model(torch.tensor([seq])).logits[0, -1, :n_valid].topk(2)
            margins.append(top.values[0].item() - top.values[1].item())
            seq.append(top.indices[0].item())
    return seq, margins


def make(name):
    fx = Fixture(name)
    out = os.path.join(OUT, name)
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    arrays, greedy_runs, routing = [], [], {}
    V = fx.cfg["vocab_size"]
    prompts = golden_prompts(name, fx.tok)
    for p in prompts:
        if p["kind"] == "logits":
            logits, _, routing[p["name"]], _ = fx.check(p["name"], p["ids"])
            fname = f"logits_{p['name']}.npy.gz"
            save_npy(out, fname, logits)
            arrays.append(dict(file=fname, shape=[len(p["ids"]), V], prompt=p["name"],
                               content="main-model logits; row i = after ids[0..i], predicting ids[i+1]"))
        elif p["kind"] == "greedy":
            seq, margins = fx.greedy(p["ids"])
            logits, _, routing[p["name"]], _ = fx.check(p["name"], seq)
            argmax_next = logits[len(p["ids"]) - 1:-1, :fx.tokens].argmax(-1).tolist()
            if argmax_next != seq[len(p["ids"]):]:
                raise AssertionError(f"{name}/{p['name']}: greedy tokens not the argmax of the full-sequence logits")
            greedy_runs.append(dict(prompt=p["name"], continuation=seq[len(p["ids"]):], top1_top2_margins=margins,
                               min_margin=min(margins), text=fx.tok.decode(seq[len(p["ids"]):], skip_special_tokens=False)))
        else:
            ids = p["ids"]
            _, hidden, routing[p["name"]], ref_hidden = fx.check(p["name"], ids)
            save_npy(out, "mtp_hidden.npy.gz", hidden)
            arrays.append(dict(file="mtp_hidden.npy.gz", shape=list(hidden.shape), prompt=p["name"],
                               content="main-model final-normed hidden states H (input of lm_head), row i = position i"))
            for k in range(mtp_reference.mtp_layer_count(fx.ref_weights)):
                logits = mtp_reference.mtp_logits(fx.cfg, fx.ref_weights, ids, hidden, k)
                diff = relative_diff(mtp_reference.mtp_logits(fx.cfg, fx.ref_weights, ids, ref_hidden, k), logits)
                fx.agreement[f"mtp_k{k}_reference_hidden"] = diff
                if diff > AGREEMENT:
                    raise AssertionError(f"{name}/mtp k={k}: port H vs reference H give {diff:.2e}")
                with torch.no_grad():
                    u = mtp_reference.mtp_input(fx.cfg, fx.weights, ids, hidden, k)
                    block = mtp_block_model(fx.cfg, fx.weights, k)(inputs_embeds=u[None]).logits[0]
                diff = relative_diff(block, logits)
                fx.agreement[f"mtp_k{k}_transformers_block"] = diff
                if diff > AGREEMENT:
                    raise AssertionError(f"{name}/mtp k={k}: transformers block vs reference {diff:.2e}")
                fname = f"mtp_logits_k{k}.npy.gz"
                save_npy(out, fname, logits)
                arrays.append(dict(file=fname, shape=list(logits.shape), prompt=p["name"], mtp_block=k,
                                   content=f"MTP block {k} logits; row i = block {k} on token ids[i+{k + 1}] and H[i] "
                                           f"at RoPE position i, predicting ids[i+{k + 2}]"))
    if name in NATIVE_COPIES:   # written by tools/fixtures/make_fixtures.py, not committed
        fx.agreement["native_checkpoint"] = native_copy_diff(fx, NATIVE_COPIES[name], prompts[1]["ids"])
    all_margins = [m for m in routing.values() if m is not None]
    doc = {
        "fixture": name,
        "checkpoint": FIXTURES[name][0],
        "native_checkpoint": f"tools/fixtures/models/{NATIVE_COPIES[name]}" if name in NATIVE_COPIES else None,
        "vocab_size": V,
        "tokenizer_size": fx.tokens,
        "format": "float32 .npy (gzip-compressed, .npy.gz), format version 1.0, little-endian '<f4', C order; logits over all vocab_size rows",
        "tolerance": {"max_abs_diff_over_max_abs_logit": TOLERANCE,
                      "rule": "max |java - golden| <= 1e-3 * max |golden| per array; greedy ids must match exactly"},
        "greedy_rule": f"{GREEDY_TOKENS} tokens, argmax over ids < tokenizer_size, no stop at eos",
        "produced_by": "transformers mimo_v2_flash (float32, eager) on dequantized weights; MTP by mtp_reference.py",
        "port_vs_independent_reference": {k: float(f"{v:.3e}") for k, v in fx.agreement.items()},
        "routing_min_margin": {"all": min(all_margins) if all_margins else None, **routing},
        "prompts": [dict(name=p["name"], kind=p["kind"], text=p["text"], ids=p["ids"]) for p in prompts],
        "arrays": arrays,
        "greedy": greedy_runs,
    }
    with open(os.path.join(out, "goldens.json"), "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    print(f"{name}: agreement {doc['port_vs_independent_reference']}, routing min margin "
          f"{doc['routing_min_margin']['all']:.3e}, greedy min margin {min(g['min_margin'] for g in greedy_runs):.3e}")


def native_copy_diff(fx, native_name, ids):
    """transformers loading the native save_pretrained copy must give the same logits as the hub port."""
    from transformers import MiMoV2FlashForCausalLM
    model = MiMoV2FlashForCausalLM.from_pretrained(os.path.join(MODELS, native_name), dtype=torch.float32,
                                                   attn_implementation="eager").eval()
    with torch.no_grad():
        logits = model(torch.tensor([ids])).logits[0]
    diff = relative_diff(logits, fx.port(ids)[0])
    if diff > AGREEMENT:
        raise AssertionError(f"{native_name}: logits differ from the hub fixture by {diff:.2e}")
    return diff


def main():
    torch.set_num_threads(1)  # deterministic reductions
    names = sys.argv[1:] or list(FIXTURES)
    unknown = set(names) - set(FIXTURES)
    if unknown:
        sys.exit(f"unknown fixtures {sorted(unknown)}; known: {list(FIXTURES)}")
    for name in names:
        make(name)


if __name__ == "__main__":
    main()
