#!/usr/bin/env python3
"""A MiMo-V2-Flash-shaped benchmark checkpoint (~5.5 GB) in the real hub layout (spec mimo-v2-flash.md §1-2).

Same config keys, tensor names and dtypes as the hub model and tools/fixtures: FP8 E4M3 q/k/v, dense MLP and
experts with F32 128x128-block `weight_scale_inv`; BF16 o_proj, embeddings, lm_head, norms and sinks; F32
router and e_score_correction_bias. Real per-layer dims (hidden 4096, 64 q heads, 4/8 kv heads, head dims
192/128, rotary 64, window 128, dense intermediate 16384, expert intermediate 2048, top-8) with fewer layers
(6: the real rule puts global attention at 0 and 5; layer 0 dense), 32 experts and vocab 32768.

Values are seeded random with sane scales: FP8 codes are random bit patterns with the top exponent bit
cleared (|code| <= 1.875, never NaN), each 128x128 block scaled so the weight's std is about 1/sqrt(fan_in)
times a random gain in [0.5, 2). Tensors are generated and written chunk by chunk straight into the shard
files (our own safetensors writer: header first, then data), so memory stays around 100 MB.

Venv (the machine's local wheel store, no PyPI):
    python3 -m venv .venv && .venv/bin/pip install $WHEEL_STORE numpy
    # $WHEEL_STORE: pip options naming the machine's local wheel store, as `pip config list` shows them
    # (its index URLs and find-links folder); no public index is needed.
Run:
    .venv/bin/python tools/bench/make_bench_checkpoint.py OUT_DIR [--seed 0] [--mtp-layers 0] [--shard-gb 2]
"""
import argparse
import json
import math
import os
import struct

import ml_dtypes
import numpy as np

BLOCK = 128
CHUNK_ROWS = 1024  # rows generated at a time (4096-wide: 4 MB of FP8 codes, 16 MB of float32)

CONFIG = dict(
    hidden_size=4096, num_hidden_layers=6, vocab_size=32768,
    num_attention_heads=64, num_key_value_heads=4, swa_num_key_value_heads=8,
    head_dim=192, v_head_dim=128, partial_rotary_factor=0.334, sliding_window=128,
    rope_theta=5_000_000.0, swa_rope_theta=10_000.0,
    intermediate_size=16384, moe_intermediate_size=2048, n_routed_experts=32, num_experts_per_tok=8,
    attention_value_scale=0.707)


def hybrid_pattern(layers):
    return [0 if i == 0 or (i + 1) % 6 == 0 else 1 for i in range(layers)]


def hub_config(c, seed, mtp):
    L = c["num_hidden_layers"]
    return {
        "architectures": ["MiMoV2FlashForCausalLM"], "model_type": "mimo_v2_flash",
        "_bench": f"benchmark checkpoint: random weights, seed {seed}",
        "vocab_size": c["vocab_size"], "hidden_size": c["hidden_size"],
        "intermediate_size": c["intermediate_size"], "moe_intermediate_size": c["moe_intermediate_size"],
        "num_hidden_layers": L,
        "num_attention_heads": c["num_attention_heads"], "num_key_value_heads": c["num_key_value_heads"],
        "swa_num_attention_heads": c["num_attention_heads"], "swa_num_key_value_heads": c["swa_num_key_value_heads"],
        "head_dim": c["head_dim"], "v_head_dim": c["v_head_dim"],
        "swa_head_dim": c["head_dim"], "swa_v_head_dim": c["v_head_dim"],
        "partial_rotary_factor": c["partial_rotary_factor"],
        "rope_theta": c["rope_theta"], "swa_rope_theta": c["swa_rope_theta"], "rope_scaling": None,
        "sliding_window": c["sliding_window"], "sliding_window_size": c["sliding_window"],
        "attention_chunk_size": c["sliding_window"],
        "hybrid_layer_pattern": hybrid_pattern(L),
        "add_swa_attention_sink_bias": True, "add_full_attention_sink_bias": False,
        "attention_value_scale": c["attention_value_scale"], "attention_bias": False, "attention_dropout": 0.0,
        "moe_layer_freq": [0] + [1] * (L - 1),
        "n_routed_experts": c["n_routed_experts"], "num_experts_per_tok": c["num_experts_per_tok"],
        "n_shared_experts": None, "scoring_func": "sigmoid", "topk_method": "noaux_tc",
        "n_group": 1, "topk_group": 1, "norm_topk_prob": True, "routed_scaling_factor": None,
        "hidden_act": "silu", "layernorm_epsilon": 1e-5, "max_position_embeddings": 262144,
        "initializer_range": 0.02, "tie_word_embeddings": False, "use_cache": True, "torch_dtype": "bfloat16",
        "bos_token_id": 257, "eos_token_id": 258, "pad_token_id": 257,
        "quantization_config": {
            "quant_method": "fp8", "fmt": "e4m3", "activation_scheme": "dynamic",
            "weight_block_size": [BLOCK, BLOCK],
            "ignored_layers": [f"model.layers.{i}.self_attn.o_proj" for i in range(L)]
            + [f"model.mtp.layers.{k}.self_attn.o_proj" for k in range(mtp)],
        },
    }


def tensor_specs(c, mtp):
    """(hub name, shape, kind) for every tensor, in file order; fp8 kinds are followed by their scale."""
    H, nh, hd, vd = c["hidden_size"], c["num_attention_heads"], c["head_dim"], c["v_head_dim"]
    specs = [("model.embed_tokens.weight", (c["vocab_size"], H), "embed")]

    def attention(p, sliding):
        kv = c["swa_num_key_value_heads"] if sliding else c["num_key_value_heads"]
        out = [(p + "input_layernorm.weight", (H,), "norm"),
               (p + "self_attn.q_proj.weight", (nh * hd, H), "fp8"),
               (p + "self_attn.k_proj.weight", (kv * hd, H), "fp8"),
               (p + "self_attn.v_proj.weight", (kv * vd, H), "fp8"),
               (p + "self_attn.o_proj.weight", (H, nh * vd), "bf16")]
        if sliding:
            out.append((p + "self_attn.attention_sink_bias", (nh,), "sink"))
        return out

    def dense(p, inter):
        return [(p + "gate_proj.weight", (inter, H), "fp8"), (p + "up_proj.weight", (inter, H), "fp8"),
                (p + "down_proj.weight", (H, inter), "fp8")]

    pattern = hybrid_pattern(c["num_hidden_layers"])
    for L in range(c["num_hidden_layers"]):
        p = f"model.layers.{L}."
        specs += attention(p, pattern[L] == 1)
        specs.append((p + "post_attention_layernorm.weight", (H,), "norm"))
        if L == 0:
            specs += dense(p + "mlp.", c["intermediate_size"])
        else:
            E = c["n_routed_experts"]
            specs += [(p + "mlp.gate.weight", (E, H), "router"), (p + "mlp.gate.e_score_correction_bias", (E,), "bias")]
            for e in range(E):
                specs += dense(f"{p}mlp.experts.{e}.", c["moe_intermediate_size"])
    specs += [("model.norm.weight", (H,), "norm"), ("lm_head.weight", (c["vocab_size"], H), "head")]
    for k in range(mtp):
        p = f"model.mtp.layers.{k}."
        specs += [(p + "enorm.weight", (H,), "norm"), (p + "hnorm.weight", (H,), "norm"),
                  (p + "eh_proj.weight", (H, 2 * H), "bf16")]
        specs += attention(p, True)
        specs.append((p + "pre_mlp_layernorm.weight", (H,), "norm"))
        specs += dense(p + "mlp.", c["intermediate_size"])
        specs.append((p + "final_layernorm.weight", (H,), "norm"))
    out = []
    for name, shape, kind in specs:
        if kind == "fp8":
            out.append((name, shape, "F8_E4M3", kind))
            grid = (math.ceil(shape[0] / BLOCK), math.ceil(shape[1] / BLOCK))
            out.append((name + "_scale_inv", grid, "F32", ("scale", shape)))
        else:
            out.append((name, shape, "F32" if kind in ("router", "bias") else "BF16", kind))
    return out


NBYTES = {"F8_E4M3": 1, "BF16": 2, "F32": 4}

# FP8 codes are a quantized Gaussian whose ~4-sigma tail reaches E4M3's largest value, as a real checkpoint's
# block scales arrange (scale = block max / 448): codes are then almost never zero or subnormal. (Uniform random
# bytes would make about one code in eight subnormal, which no trained checkpoint looks like.)
FP8_MAX = 448.0
CODE_RMS = FP8_MAX / 4


def bf16_bytes(x):
    """float32 array -> BF16 bytes (round to nearest even)."""
    u = x.astype(np.float32).view(np.uint32)
    u = (u + 0x7FFF + ((u >> 16) & 1)) >> 16
    return u.astype(np.uint16).tobytes()


def write_tensor(fp, shape, dtype, kind, rng):
    """Writes one tensor's data in chunks of rows."""
    fan_in = shape[-1]
    if kind == "fp8":
        for r in range(0, shape[0], CHUNK_ROWS):
            n = min(CHUNK_ROWS, shape[0] - r)
            x = rng.standard_normal((n, shape[1]), dtype=np.float32) * np.float32(CODE_RMS)
            fp.write(np.clip(x, -FP8_MAX, FP8_MAX).astype(ml_dtypes.float8_e4m3fn).tobytes())
        return
    if isinstance(kind, tuple):  # block scale of the preceding fp8 weight: std ~ gain / sqrt(fan_in)
        gain = rng.uniform(0.5, 2.0, shape).astype(np.float32)
        fp.write((gain / (CODE_RMS * math.sqrt(kind[1][1]))).astype(np.float32).tobytes())
        return
    std = {"embed": 1.0, "head": 2.5 / math.sqrt(fan_in), "sink": 1.0, "bias": 0.2,
           "router": 2.0 / math.sqrt(fan_in), "bf16": 1.0 / math.sqrt(fan_in)}.get(kind)
    rows = shape[0] if len(shape) == 2 else 1
    for r in range(0, rows, CHUNK_ROWS):
        n = min(CHUNK_ROWS, rows - r)
        sub = (n, shape[1]) if len(shape) == 2 else shape
        x = (0.6 + 0.8 * rng.random(sub, dtype=np.float32)) if kind == "norm" \
            else rng.standard_normal(sub, dtype=np.float32) * np.float32(std)
        fp.write(x.astype(np.float32).tobytes() if dtype == "F32" else bf16_bytes(x))


def split_shards(specs, shard_bytes):
    """Groups tensors into shards of about shard_bytes, cutting only between layers (as the hub files do)."""
    group = lambda n: n.split(".")[:4] if n.startswith(("model.layers.", "model.mtp.")) else n
    shards, current, size, last = [], [], 0, None
    for spec in specs:
        nbytes = math.prod(spec[1]) * NBYTES[spec[2]]
        if current and size >= shard_bytes and group(spec[0]) != last:
            shards.append(current)
            current, size = [], 0
        current.append(spec)
        size += nbytes
        last = group(spec[0])
    shards.append(current)
    return shards


def write_shard(path, specs, rng):
    header, offset = {"__metadata__": {"format": "pt"}}, 0
    for name, shape, dtype, _ in specs:
        nbytes = math.prod(shape) * NBYTES[dtype]
        header[name] = {"dtype": dtype, "shape": list(shape), "data_offsets": [offset, offset + nbytes]}
        offset += nbytes
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as fp:
        fp.write(struct.pack("<Q", len(text)))
        fp.write(text)
        for name, shape, dtype, kind in specs:
            write_tensor(fp, shape, dtype, kind, rng)
        assert fp.tell() == 8 + len(text) + offset, path
    return offset


def byte_level_tokenizer(vocab_size):
    """tokenizer.json/tokenizer_config.json: byte-level BPE over the 256 byte symbols (GPT-2 byte-to-unicode map),
    one merge (two spaces; llama.cpp refuses a BPE vocabulary without merges), then <|endoftext|> and <|im_end|>.
    Higher ids are padding rows of the embedding, as in the real model; converters and loaders need a
    tokenizer, the benchmark feeds token ids."""
    printable = list(range(33, 127)) + list(range(161, 173)) + list(range(174, 256))
    mapping, extra = {}, 0
    for b in range(256):
        if b in printable:
            mapping[b] = chr(b)
        else:
            mapping[b] = chr(256 + extra)
            extra += 1
    vocab = {mapping[b]: b for b in range(256)}
    space = mapping[ord(" ")]
    vocab[space + space] = 256
    specials = ["<|endoftext|>", "<|im_end|>"]
    assert vocab_size > 257 + len(specials)
    added = [{"id": 257 + i, "content": t, "single_word": False, "lstrip": False, "rstrip": False,
              "normalized": False, "special": True} for i, t in enumerate(specials)]
    byte_level = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False, "use_regex": False}
    tokenizer = {"version": "1.0", "truncation": None, "padding": None, "added_tokens": added,
                 "normalizer": None, "pre_tokenizer": byte_level, "post_processor": byte_level,
                 "decoder": byte_level,
                 "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
                           "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False,
                           "ignore_merges": False, "vocab": vocab, "merges": [[space, space]]}}
    config = {"tokenizer_class": "Qwen2Tokenizer", "add_bos_token": False, "bos_token": None,
              "eos_token": "<|im_end|>", "pad_token": "<|endoftext|>", "unk_token": None,
              "model_max_length": 262144, "added_tokens_decoder": {str(a["id"]): {k: v for k, v in a.items() if k != "id"}
                                                                   for a in added}}
    return tokenizer, config


def write_json(path, obj):
    with open(path, "w", encoding="utf-8") as fp:
        json.dump(obj, fp, indent=2, ensure_ascii=False)
        fp.write("\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--mtp-layers", type=int, default=0, help="MTP blocks to add (the real model has 3)")
    ap.add_argument("--shard-gb", type=float, default=2.0)
    ap.add_argument("--metadata-only", action="store_true", help="rewrite config and tokenizer, not the weights")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    rng = np.random.default_rng(args.seed)
    specs = tensor_specs(CONFIG, args.mtp_layers)
    shards = split_shards(specs, args.shard_gb * 1e9)
    weight_map, total = {}, 0
    for i, part in enumerate(shards):
        fname = f"model-{i + 1:05d}-of-{len(shards):05d}.safetensors"
        if args.metadata_only:
            total += sum(math.prod(shape) * NBYTES[dtype] for _, shape, dtype, _ in part)
        else:
            total += write_shard(os.path.join(args.out, fname), part, rng)
        weight_map.update({s[0]: fname for s in part})
        print(f"{fname}: {len(part)} tensors, {total / 1e9:.2f} GB so far", flush=True)
    write_json(os.path.join(args.out, "model.safetensors.index.json"),
               {"metadata": {"total_size": total}, "weight_map": dict(sorted(weight_map.items()))})
    write_json(os.path.join(args.out, "config.json"), hub_config(CONFIG, args.seed, args.mtp_layers))
    tokenizer, tokenizer_config = byte_level_tokenizer(CONFIG["vocab_size"])
    write_json(os.path.join(args.out, "tokenizer.json"), tokenizer)
    write_json(os.path.join(args.out, "tokenizer_config.json"), tokenizer_config)


if __name__ == "__main__":
    main()
