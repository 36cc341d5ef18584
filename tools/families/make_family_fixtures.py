#!/usr/bin/env python3
"""Tiny random Qwen3, Qwen3-MoE and Llama 3 checkpoints, saved by transformers' own `save_pretrained`, with
their goldens computed by transformers' own classes in float32 (Qwen3ForCausalLM, Qwen3MoeForCausalLM,
LlamaForCausalLM).

Purpose: GoldenTest (bundles/itest) checks every-position logits and 32-token greedy continuations of the Java
families against these, on the CPU and reference backends; the checkpoint tests read the configs. Every weight
is rounded to BF16 and the checkpoint is saved in BF16, so the float32 model the goldens come from holds exactly
the saved values. Norm weights are random in [0.6, 1.4] (not ones) and the init is wider than transformers'
default so that logits have margins. Sizes are tiny (hidden 32, 2 layers): the three fixtures together with
their goldens stay far below 1 MB.

- qwen3-tiny: Qwen3ForCausalLM, head_dim 16 with hidden 32 / 4 heads (head_dim independent of the hidden
  size), GQA 4/2, q/k RMSNorm, tied embeddings, the tokenizer of tools/fixtures/models/tiny-a with Qwen3's
  own chat_template (from bundles/tokenizer's test resources).
- qwen3-moe-tiny: Qwen3MoeForCausalLM, 8 experts top-2, norm_topk_prob, mlp_only_layers [0] (layer 0 dense,
  layer 1 sparse), untied embeddings; same tokenizer.
- llama3-tiny: LlamaForCausalLM with rope_parameters rope_type llama3 (factor 8, low/high freq factors 1/4,
  original_max_position_embeddings 32, so the prompt crosses every band), tied embeddings (Llama 3.2 style),
  and a Llama-3-shaped tokenizer trained here with `tokenizers` (Llama 3's split regex, byte-level BPE with
  ignore_merges, specials after the BPE vocab, post_processor TemplateProcessing adding <|begin_of_text|>).

Venv: see tools/fixtures/make_fixtures.py (torch, transformers==5.18.0, tokenizers, numpy from the local wheel
store). Run from the repository root:
    .venv/bin/python tools/families/make_family_fixtures.py
Writes tools/fixtures/models/{qwen3-tiny,qwen3-moe-tiny,llama3-tiny}/ and tools/reference/goldens/<same>/.
Deterministic for the same wheels.
"""
import copy
import gzip
import json
import os
import shutil
import sys

import numpy as np
import torch
from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, processors, trainers
from transformers import LlamaConfig, LlamaForCausalLM, Qwen3Config, Qwen3ForCausalLM, Qwen3MoeConfig, Qwen3MoeForCausalLM

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
MODELS = os.path.join(ROOT, "tools", "fixtures", "models")
GOLDENS = os.path.join(ROOT, "tools", "reference", "goldens")
QWEN_TOKENIZER = os.path.join(MODELS, "tiny-a")
QWEN3_CONFIG = os.path.join(ROOT, "bundles", "tokenizer", "src", "test", "resources", "tokenizer", "qwen3",
                            "tokenizer_config.json")
GREEDY_TOKENS = 32
TOLERANCE = 1e-3

# Llama 3's pre-tokenizer split (tokenizer.json of meta-llama/Llama-3.*)
LLAMA3_PATTERN = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*"
                  r"|\s*[\r\n]+|\s+(?!\S)|\s+")
LLAMA3_SPECIALS = ["<|begin_of_text|>", "<|end_of_text|>", "<|reserved_special_token_0|>",
                   "<|reserved_special_token_1|>", "<|finetune_right_pad_id|>", "<|reserved_special_token_2|>",
                   "<|start_header_id|>", "<|end_header_id|>", "<|eom_id|>", "<|eot_id|>", "<|python_tag|>"]
LLAMA3_BPE_VOCAB = 300

PROSE = ("The sliding window keeps only the most recent keys, while the global layers see the whole context. "
         "Each expert is a small gated network and the router picks a few of them for every token. "
         "public final class Window { private final int size; public Window(int size) { this.size = size; } } ")


def llama3_tokenizer():
    """A Llama-3-shaped tokenizer.json trained on a few JDK-like lines and the prose above."""
    corpus = [PROSE * 3, "for (int i = 0; i < n; i++) { sum += a[i]; }\n" * 20,
              "Hello, world! It's 2026; numbers 12345 and 678 split in threes.\n" * 10,
              "def f(x):\n    return x * 2  # doubled\n" * 10]
    tok = Tokenizer(models.BPE(ignore_merges=True))
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(LLAMA3_PATTERN), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=True, use_regex=False)])
    tok.decoder = decoders.ByteLevel(add_prefix_space=True, trim_offsets=True, use_regex=True)
    trainer = trainers.BpeTrainer(vocab_size=LLAMA3_BPE_VOCAB, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(corpus, trainer)
    tok.add_special_tokens(LLAMA3_SPECIALS)
    bos = tok.token_to_id("<|begin_of_text|>")
    tok.post_processor = processors.Sequence([
        processors.ByteLevel(add_prefix_space=True, trim_offsets=False, use_regex=True),
        processors.TemplateProcessing(single="<|begin_of_text|> $A", pair="<|begin_of_text|> $A <|begin_of_text|> $B:1",
                                      special_tokens=[("<|begin_of_text|>", bos)])])
    return tok


def randomize(model, seed, scale):
    """Wide random weights rounded to BF16; norms in [0.6, 1.4]."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("norm.weight"):
                p.copy_(0.6 + 0.8 * torch.rand(p.shape, generator=g))
            else:
                fan_in = p.shape[-1]
                p.copy_(torch.randn(p.shape, generator=g) * (scale / fan_in ** 0.5))
            p.copy_(p.to(torch.bfloat16).to(torch.float32))


def save_npy(path, array):
    """A float32 .npy, gzip-compressed (mtime 0 keeps reruns byte-identical)."""
    with gzip.GzipFile(path, "wb", mtime=0, compresslevel=9) as f:
        np.save(f, np.ascontiguousarray(array, dtype="<f4"))


def goldens(name, model, tok_ids, prompts, vocab_limit, out_dir, checkpoint, produced_by):
    os.makedirs(out_dir, exist_ok=True)
    arrays, greedy, prompt_list = [], [], []
    model.eval()
    for pname, kind, ids in prompts:
        prompt_list.append({"name": pname, "kind": kind, "ids": ids})
        with torch.no_grad():
            if kind == "logits":
                logits = model(torch.tensor([ids])).logits[0].float().numpy()
                file = "logits_" + pname + ".npy.gz"
                save_npy(os.path.join(out_dir, file), logits)
                arrays.append({"file": file, "shape": list(logits.shape), "prompt": pname,
                               "content": "main-model logits; row i = after ids[0..i], predicting ids[i+1]"})
            else:
                seq = list(ids)
                margins = []
                for _ in range(GREEDY_TOKENS):
                    row = model(torch.tensor([seq])).logits[0, -1, :vocab_limit].float()
                    top = torch.topk(row, 2)
                    margins.append(float(top.values[0] - top.values[1]))
                    seq.append(int(top.indices[0]))
                greedy.append({"prompt": pname, "continuation": seq[len(ids):], "top1_top2_margins": margins,
                               "min_margin": min(margins)})
    doc = {"fixture": name, "checkpoint": checkpoint, "vocab_size": model.config.vocab_size,
           "tokenizer_size": vocab_limit,
           "format": "float32 .npy (gzip-compressed, .npy.gz), format version 1.0, little-endian '<f4', C order; logits over all vocab_size rows",
           "tolerance": {"max_abs_diff_over_max_abs_logit": TOLERANCE,
                         "rule": "max |java - golden| <= 1e-3 * max |golden| per array; greedy ids must match exactly"},
           "greedy_rule": "32 tokens, argmax over ids < tokenizer_size, no stop at eos",
           "produced_by": produced_by, "prompts": prompt_list, "arrays": arrays, "greedy": greedy}
    with open(os.path.join(out_dir, "goldens.json"), "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    return doc


def routing_margin(model, ids):
    """Smallest gap between the k-th and (k+1)-th softmax router probability over the prompt (MoE layers)."""
    margins = []
    hooks = []

    def hook(module, args, output):
        logits = output[0]
        probs = torch.softmax(logits.float(), dim=-1)
        top = torch.topk(probs, module.top_k + 1, dim=-1).values
        margins.append(float((top[:, -2] - top[:, -1]).min()))

    for layer in model.model.layers:
        gate = getattr(layer.mlp, "gate", None)
        if gate is not None and hasattr(gate, "top_k"):
            hooks.append(gate.register_forward_hook(hook))
    with torch.no_grad():
        model(torch.tensor([ids]))
    for h in hooks:
        h.remove()
    return min(margins) if margins else None


def write_fixture(name, model, tokenizer_files, produced_by, encode, vocab_limit, chat_template):
    directory = os.path.join(MODELS, name)
    shutil.rmtree(directory, ignore_errors=True)
    # save a BF16 copy: converting the model itself would round its RoPE inv_freq buffer to BF16 as well
    copy.deepcopy(model).to(torch.bfloat16).save_pretrained(directory)
    for src, dst in tokenizer_files:
        shutil.copy(src, os.path.join(directory, dst)) if isinstance(src, str) else src(os.path.join(directory, dst))
    if chat_template is not None:
        path = os.path.join(directory, "tokenizer_config.json")
        with open(path) as f:
            config = json.load(f)
        config["chat_template"] = chat_template
        with open(path, "w") as f:
            json.dump(config, f, indent=1)
            f.write("\n")
    short = encode("The sliding windo")
    long = encode(PROSE)[:48]
    prompts = [("short", "logits", short), ("long", "logits", long),
               ("greedy_text", "greedy", encode("The router picks")),
               ("greedy_code", "greedy", encode("public static int max(int a, int b) {"))]
    out = os.path.join(GOLDENS, name)
    shutil.rmtree(out, ignore_errors=True)
    doc = goldens(name, model, None, prompts, vocab_limit, out, os.path.relpath(directory, ROOT), produced_by)
    margin = routing_margin(model, long)
    print(name, "saved;", "min greedy margin", min(g["min_margin"] for g in doc["greedy"]),
          "routing margin", margin)


def main():
    torch.manual_seed(0)
    qwen_tok = Tokenizer.from_file(os.path.join(QWEN_TOKENIZER, "tokenizer.json"))
    with open(QWEN3_CONFIG) as f:
        qwen3_template = json.load(f)["chat_template"]
    qwen_files = [(os.path.join(QWEN_TOKENIZER, "tokenizer.json"), "tokenizer.json"),
                  (os.path.join(QWEN_TOKENIZER, "tokenizer_config.json"), "tokenizer_config.json")]
    qwen_encode = lambda text: qwen_tok.encode(text).ids  # noqa: E731
    qwen_vocab = qwen_tok.get_vocab_size()

    common = dict(hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
                  num_key_value_heads=2, max_position_embeddings=4096, rms_norm_eps=1e-6)
    qwen3 = Qwen3ForCausalLM(Qwen3Config(vocab_size=336, head_dim=16, tie_word_embeddings=True,
                                         rope_parameters={"rope_type": "default", "rope_theta": 1_000_000.0},
                                         bos_token_id=None, eos_token_id=323, **common))
    randomize(qwen3, 1, 2.0)
    write_fixture("qwen3-tiny", qwen3, qwen_files, "transformers Qwen3ForCausalLM (float32, eager)", qwen_encode,
                  qwen_vocab, qwen3_template)

    moe = Qwen3MoeForCausalLM(Qwen3MoeConfig(vocab_size=336, head_dim=16, tie_word_embeddings=False, num_experts=8,
                                             num_experts_per_tok=2, moe_intermediate_size=24, norm_topk_prob=True,
                                             decoder_sparse_step=1, mlp_only_layers=[0],
                                             rope_parameters={"rope_type": "default", "rope_theta": 1_000_000.0},
                                             bos_token_id=None, eos_token_id=323, **common))
    randomize(moe, 2, 2.0)
    write_fixture("qwen3-moe-tiny", moe, qwen_files, "transformers Qwen3MoeForCausalLM (float32, eager)",
                  qwen_encode, qwen_vocab, qwen3_template)

    llama_tok = llama3_tokenizer()
    llama_vocab = llama_tok.get_vocab_size()
    bos = llama_tok.token_to_id("<|begin_of_text|>")
    eot = llama_tok.token_to_id("<|eot_id|>")
    llama = LlamaForCausalLM(LlamaConfig(vocab_size=llama_vocab, head_dim=16, tie_word_embeddings=True,
                                         rope_parameters={"rope_type": "llama3", "rope_theta": 500_000.0,
                                                          "factor": 8.0, "low_freq_factor": 1.0,
                                                          "high_freq_factor": 4.0,
                                                          "original_max_position_embeddings": 32},
                                         bos_token_id=bos, eos_token_id=[llama_tok.token_to_id("<|end_of_text|>"),
                                                                         llama_tok.token_to_id("<|eom_id|>"), eot],
                                         **common))
    randomize(llama, 3, 2.0)

    def llama_tokenizer_config(path):
        with open(path, "w") as f:
            json.dump({"tokenizer_class": "PreTrainedTokenizerFast", "bos_token": "<|begin_of_text|>",
                       "eos_token": "<|eot_id|>", "model_max_length": 131072,
                       "clean_up_tokenization_spaces": True}, f, indent=1)
            f.write("\n")

    llama_files = [(lambda path: llama_tok.save(path), "tokenizer.json"),
                   (llama_tokenizer_config, "tokenizer_config.json")]
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "llama31_chat_template.jinja")) as f:
        llama_template = f.read()
    write_fixture("llama3-tiny", llama, llama_files, "transformers LlamaForCausalLM (float32, eager)",
                  lambda text: llama_tok.encode(text).ids, llama_vocab, llama_template)
    tokenizer_goldens(llama_tok)


def tokenizer_goldens(tok):
    """The Llama-3-shaped tokenizer against HF tokenizers on every 16th line of the tokenizer bundle's corpus:
    ids without and with the post-processor's special tokens, and the decode (null when it round-trips). The test
    reads the tokenizer from tools/fixtures/models/llama3-tiny (one copy in the tree)."""
    sys.path.insert(0, os.path.join(ROOT, "tools", "tokenizer"))
    from make_goldens import lossy, read_corpus, write_jsonl  # noqa: E402
    resources = os.path.join(ROOT, "bundles", "tokenizer", "src", "test", "resources", "tokenizer")
    rows = []
    for line in read_corpus(os.path.join(resources, "corpus.jsonl.gz"))[::16]:
        text = lossy(line)
        ids = tok.encode(text, add_special_tokens=False).ids
        decoded = tok.decode(ids, skip_special_tokens=False)
        with_special = tok.encode(text).ids
        assert with_special[len(with_special) - len(ids):] == ids, "the post-processor only prepends"
        rows.append({"ids": ids, "prefix": with_special[:len(with_special) - len(ids)],
                     "decoded": None if decoded == text else decoded})
    write_jsonl(os.path.join(resources, "goldens-llama3.jsonl.gz"), rows)


if __name__ == "__main__":
    main()
