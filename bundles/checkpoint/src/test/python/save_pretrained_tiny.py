"""Writes src/test/resources/saved-by-transformers/: a tiny random MiMo-V2-Flash saved by transformers'
save_pretrained (native config spelling: layer_types, mlp_layer_types, rope_parameters, rms_norm_eps), plus
expected.json with the first values of a few tensors, read back by SavedByTransformersTest.

Run by hand from bundles/checkpoint (tests never need Python). A venv from the machine's local wheel store:
  python3 -m venv .venv && .venv/bin/pip install $WHEEL_STORE torch transformers==5.18.0 safetensors
  # $WHEEL_STORE: pip options naming the machine's local wheel store, as `pip config list` shows them
  # (its index URLs and find-links folder); no public index is needed.
  .venv/bin/python src/test/python/save_pretrained_tiny.py
"""
import json
import os

import torch
from safetensors import safe_open
from transformers import MiMoV2FlashConfig, MiMoV2FlashForCausalLM

OUT = "src/test/resources/saved-by-transformers"
# head_dim 24: int(24 * 0.334) = 8, an even rotary dim; 6 layers so layer 5 is global (i + 1) % 6 == 0
config = MiMoV2FlashConfig(vocab_size=16, hidden_size=16, intermediate_size=24, num_hidden_layers=6,
                           num_attention_heads=2, num_key_value_heads=1, head_dim=24, v_head_dim=8,
                           moe_intermediate_size=8, n_routed_experts=4, num_experts_per_tok=2, sliding_window=4,
                           max_position_embeddings=256, eos_token_id=2)
torch.manual_seed(0)
model = MiMoV2FlashForCausalLM(config)
model.save_pretrained(OUT, max_shard_size="16KB")
os.remove(os.path.join(OUT, "generation_config.json"))

expected = {}
index = json.load(open(os.path.join(OUT, "model.safetensors.index.json")))["weight_map"]
for name in ["model.embed_tokens.weight", "model.layers.1.self_attn.attention_sink_bias",
             "model.layers.3.mlp.experts.2.down_proj.weight", "model.layers.5.self_attn.k_proj.weight"]:
    with safe_open(os.path.join(OUT, index[name]), "pt") as f:
        t = f.get_tensor(name)
    expected[name] = {"shape": list(t.shape), "dtype": "F32", "first": t.flatten()[:4].tolist()}
json.dump(expected, open(os.path.join(OUT, "expected.json"), "w"), indent=1)
