#!/usr/bin/env python3
"""Bytes of weights one decoded token reads, in their stored dtypes, from a hub-layout checkpoint's safetensors
headers: every tensor of the main model except the embedding (one row) and the routed experts, of which
num_experts_per_tok of n_routed_experts per MoE layer (top-k picks distinct experts); MTP blocks excluded.
Plain Python, no packages. Run: python3 tools/bench/bytes_per_token.py CHECKPOINT_DIR"""
import json
import os
import re
import struct
import sys

NBYTES = {"F8_E4M3": 1, "BF16": 2, "F16": 2, "F32": 4}


def main(directory):
    config = json.load(open(os.path.join(directory, "config.json")))
    files = sorted(f for f in os.listdir(directory) if f.endswith(".safetensors"))
    parts = {"attention": 0, "dense mlp": 0, "router": 0, "experts (all)": 0, "norms": 0, "lm_head": 0,
             "embedding row": 0}
    for fname in files:
        with open(os.path.join(directory, fname), "rb") as fp:
            header = json.loads(fp.read(struct.unpack("<Q", fp.read(8))[0]))
        for name, t in header.items():
            if name == "__metadata__" or name.startswith("model.mtp."):
                continue
            size = NBYTES[t["dtype"]]
            for d in t["shape"]:
                size *= d
            if name == "model.embed_tokens.weight":
                parts["embedding row"] += size // t["shape"][0]
            elif name.startswith("lm_head."):
                parts["lm_head"] += size
            elif ".mlp.experts." in name:
                parts["experts (all)"] += size
            elif ".mlp.gate." in name:
                parts["router"] += size
            elif ".self_attn." in name:
                parts["attention"] += size
            elif ".mlp." in name:
                parts["dense mlp"] += size
            else:
                parts["norms"] += size
    share = config["num_experts_per_tok"] / config["n_routed_experts"]
    active = dict(parts)
    active["experts (active)"] = round(parts.pop("experts (all)") * share)
    del active["experts (all)"]
    for k, v in active.items():
        print(f"{k:18s} {v / 1e6:10.2f} MB")
    print(f"{'total per token':18s} {sum(active.values()) / 1e6:10.2f} MB "
          f"({config['num_experts_per_tok']} of {config['n_routed_experts']} experts per MoE layer)")


if __name__ == "__main__":
    main(sys.argv[1])
