"""Hub-layout MiMo-V2-Flash checkpoint -> Hugging Face transformers' native `mimo_v2_flash` model.

transformers' native config reads none of the hub-only keys and hard-codes some structure (spec §11),
so the native config is built here by hand and every hard-coded assumption is checked against the hub
config: one q-head count and one head-dim pair for both layer types, SWA kv heads = 2 x GA kv heads,
sinks on SWA layers only, an even rotary dim. FP8 weights are dequantized here (W = fp8 * scale_inv
block), not by transformers. Names are mapped as transformers' converter does: per-expert
gate/up/down -> stacked experts.gate_up_proj [E, 2I, H] (gate rows first) and experts.down_proj
[E, H, I]; attention_sink_bias -> sinks; model.mtp.* is dropped (the native model has no MTP).

Venv: see make_goldens.py. Used as a library by make_fixtures.py and make_goldens.py.
"""
import json
import math
import os

import torch
from safetensors import safe_open
from transformers import MiMoV2FlashConfig, MiMoV2FlashForCausalLM

BLOCK = 128


def load_hub(directory):
    """Hub config dict and {hub name: float32 tensor} with FP8 weights dequantized (torch's E4M3 decode)."""
    with open(os.path.join(directory, "config.json")) as f:
        cfg = json.load(f)
    index = os.path.join(directory, "model.safetensors.index.json")
    files = ["model.safetensors"]
    if os.path.exists(index):
        with open(index) as f:
            files = sorted(set(json.load(f)["weight_map"].values()))
    raw = {}
    for name in files:
        with safe_open(os.path.join(directory, name), framework="pt") as f:
            raw.update({key: f.get_tensor(key) for key in f.keys()})
    return cfg, dequantize_all(raw)


def dequantize_all(raw):
    weights = {}
    for key, t in raw.items():
        if key.endswith("_scale_inv"):
            continue
        if t.dtype == torch.float8_e4m3fn:
            scale = raw[key + "_scale_inv"].float()
            rows, cols = t.shape
            grid = (math.ceil(rows / BLOCK), math.ceil(cols / BLOCK))
            if tuple(scale.shape) != grid:
                raise ValueError(f"{key}_scale_inv: shape {tuple(scale.shape)}, expected {grid}")
            full = scale.repeat_interleave(BLOCK, 0)[:rows].repeat_interleave(BLOCK, 1)[:, :cols]
            weights[key] = t.float() * full
        else:
            weights[key] = t.float()
    return weights


def native_config(cfg):
    """MiMoV2FlashConfig reproducing the hub config, or ValueError naming what the native model cannot express."""
    def require(ok, what):
        if not ok:
            raise ValueError(f"native mimo_v2_flash cannot express this config: {what}")

    require(cfg["swa_num_attention_heads"] == cfg["num_attention_heads"], "swa_num_attention_heads != num_attention_heads")
    require(cfg["swa_num_key_value_heads"] == 2 * cfg["num_key_value_heads"], "swa_num_key_value_heads != 2 x num_key_value_heads")
    require(cfg["swa_head_dim"] == cfg["head_dim"] and cfg["swa_v_head_dim"] == cfg["v_head_dim"], "SWA head dims differ from GA")
    require(cfg["add_swa_attention_sink_bias"] and not cfg["add_full_attention_sink_bias"], "sinks must be on SWA layers only")
    require(int(cfg["head_dim"] * cfg["partial_rotary_factor"]) % 2 == 0, "odd rotary dim")
    require(cfg["scoring_func"] == "sigmoid" and cfg["topk_method"] == "noaux_tc", "router must be sigmoid/noaux_tc")
    require(not cfg.get("n_shared_experts"), "shared experts")
    require(not cfg.get("attention_bias"), "attention bias")
    rope = lambda theta: {"rope_type": "default", "rope_theta": theta, "partial_rotary_factor": cfg["partial_rotary_factor"]}
    scaling = cfg["routed_scaling_factor"]
    return MiMoV2FlashConfig(
        vocab_size=cfg["vocab_size"],
        hidden_size=cfg["hidden_size"],
        intermediate_size=cfg["intermediate_size"],
        moe_intermediate_size=cfg["moe_intermediate_size"],
        num_hidden_layers=cfg["num_hidden_layers"],
        num_attention_heads=cfg["num_attention_heads"],
        num_key_value_heads=cfg["num_key_value_heads"],
        head_dim=cfg["head_dim"],
        v_head_dim=cfg["v_head_dim"],
        hidden_act=cfg["hidden_act"],
        max_position_embeddings=cfg["max_position_embeddings"],
        rms_norm_eps=cfg["layernorm_epsilon"],
        tie_word_embeddings=cfg["tie_word_embeddings"],
        attention_bias=False,
        sliding_window=cfg["sliding_window"],
        layer_types=["sliding_attention" if t == 1 else "full_attention" for t in cfg["hybrid_layer_pattern"]],
        mlp_layer_types=["sparse" if f else "dense" for f in cfg["moe_layer_freq"]],
        rope_parameters={"full_attention": rope(cfg["rope_theta"]), "sliding_attention": rope(cfg["swa_rope_theta"])},
        n_routed_experts=cfg["n_routed_experts"],
        num_experts_per_tok=cfg["num_experts_per_tok"],
        n_group=cfg["n_group"],
        topk_group=cfg["topk_group"],
        norm_topk_prob=cfg["norm_topk_prob"],
        routed_scaling_factor=1.0 if scaling is None else scaling,
        attention_value_scale=cfg["attention_value_scale"],
        bos_token_id=cfg["bos_token_id"],
        eos_token_id=cfg["eos_token_id"],
        pad_token_id=cfg["pad_token_id"],
    )


def native_state_dict(cfg, W):
    """Hub names -> native names (model.mtp.* dropped)."""
    out = {}
    for L in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{L}.mlp."
        if cfg["moe_layer_freq"][L]:
            E = cfg["n_routed_experts"]
            out[p + "experts.gate_up_proj"] = torch.stack(
                [torch.cat([W[f"{p}experts.{e}.gate_proj.weight"], W[f"{p}experts.{e}.up_proj.weight"]]) for e in range(E)])
            out[p + "experts.down_proj"] = torch.stack([W[f"{p}experts.{e}.down_proj.weight"] for e in range(E)])
    for key, t in W.items():
        if key.startswith("model.mtp.") or ".mlp.experts." in key:
            continue
        out[key.replace("self_attn.attention_sink_bias", "self_attn.sinks")] = t
    return out


def build_model(cfg, W):
    """float32 native model with eager attention, weights loaded strictly."""
    config = native_config(cfg)
    config._attn_implementation = "eager"
    torch.manual_seed(0)  # construction draws random init; every tensor is then overwritten
    model = MiMoV2FlashForCausalLM(config).float().eval()
    model.load_state_dict(native_state_dict(cfg, W), strict=True)
    return model


def mtp_block_model(cfg, W, k):
    """MTP block k as a one-layer native model (SWA attention, dense MLP) fed with inputs_embeds = u:
    input_layernorm, self_attn, pre_mlp_layernorm -> post_attention_layernorm, final_layernorm -> norm,
    shared lm_head. A cross-check of mtp_reference.py's block after eh_proj."""
    one = dict(cfg, num_hidden_layers=1, hybrid_layer_pattern=[1], moe_layer_freq=[0])
    config = native_config(one)
    config._attn_implementation = "eager"
    torch.manual_seed(0)
    model = MiMoV2FlashForCausalLM(config).float().eval()
    p = f"model.mtp.layers.{k}."
    names = {"input_layernorm.weight": "model.layers.0.input_layernorm.weight",
             "pre_mlp_layernorm.weight": "model.layers.0.post_attention_layernorm.weight",
             "final_layernorm.weight": "model.norm.weight"}
    state = {"model.embed_tokens.weight": W["model.embed_tokens.weight"], "lm_head.weight": W["lm_head.weight"]}
    for key, t in W.items():
        if key.startswith(p) and key[len(p):].startswith(("self_attn.", "mlp.")):
            state["model.layers.0." + key[len(p):].replace("attention_sink_bias", "sinks")] = t
        elif key.startswith(p) and key[len(p):] in names:
            state[names[key[len(p):]]] = t
    model.load_state_dict(state, strict=True)
    return model


class RoutingMargins:
    """Collects, via forward hooks on the routers, the gap between the k-th and (k+1)-th selection score."""

    def __init__(self, model):
        self.margins = []
        for layer in model.model.layers:
            gate = getattr(layer.mlp, "gate", None)
            if gate is not None and hasattr(gate, "e_score_correction_bias"):
                gate.register_forward_hook(self._hook)

    def _hook(self, gate, args, output):
        router_logits = output[0]
        choice = router_logits.sigmoid() + gate.e_score_correction_bias
        top = choice.topk(gate.top_k + 1, dim=-1).values
        self.margins.extend((top[:, -2] - top[:, -1]).tolist())
