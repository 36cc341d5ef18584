"""Independent float32 reference of the MiMo-V2-Flash main model (docs: spec mimo-v2-flash.md §3).

Written from the spec text, not from transformers: it reads the HUB config keys and the HUB tensor
names directly, decodes FP8 E4M3 from its bits, and spells out attention, sinks, RoPE and routing
with plain loops. make_goldens.py checks the transformers port against it.

Venv: see make_goldens.py. Used as a library (load_checkpoint, forward); no command line.
"""
import json
import math
import os

import torch
from safetensors import safe_open

BLOCK = 128  # FP8 weight block (quantization_config.weight_block_size)


def e4m3_table():
    """The 256 E4M3FN values by the spec formula: s|eeee|mmm, bias 7, e=0 subnormal, 0x7F/0xFF NaN."""
    values = []
    for bits in range(256):
        s = -1.0 if bits & 0x80 else 1.0
        e = (bits >> 3) & 0xF
        m = bits & 0x7
        if e == 0xF and m == 0x7:
            values.append(float("nan"))
        elif e == 0:
            values.append(s * 2.0 ** -6 * m / 8)
        else:
            values.append(s * 2.0 ** (e - 7) * (1 + m / 8))
    return torch.tensor(values, dtype=torch.float32)


def dequantize(codes, scale_inv):
    """W[i,j] = fp8(codes[i,j]) * scale_inv[i//128, j//128], block by block."""
    table = e4m3_table()
    w = table[codes.view(torch.uint8).long()]
    rows, cols = w.shape
    if scale_inv.shape != (math.ceil(rows / BLOCK), math.ceil(cols / BLOCK)):
        raise ValueError(f"scale grid {tuple(scale_inv.shape)} does not fit weight {tuple(w.shape)}")
    for bi in range(scale_inv.shape[0]):
        for bj in range(scale_inv.shape[1]):
            w[bi * BLOCK:(bi + 1) * BLOCK, bj * BLOCK:(bj + 1) * BLOCK] *= scale_inv[bi, bj]
    return w


def load_checkpoint(directory):
    """Hub config dict and {hub name: float32 tensor}, FP8 weights dequantized, scales dropped."""
    with open(os.path.join(directory, "config.json")) as f:
        cfg = json.load(f)
    index = os.path.join(directory, "model.safetensors.index.json")
    if os.path.exists(index):
        with open(index) as f:
            files = sorted(set(json.load(f)["weight_map"].values()))
    else:
        files = ["model.safetensors"]
    raw = {}
    for name in files:
        with safe_open(os.path.join(directory, name), framework="pt") as f:
            for key in f.keys():
                raw[key] = f.get_tensor(key)
    weights = {}
    for key, t in raw.items():
        if key.endswith("_scale_inv"):
            continue
        if t.dtype == torch.float8_e4m3fn:
            weights[key] = dequantize(t, raw[key + "_scale_inv"].float())
        else:
            weights[key] = t.float()
    return cfg, weights


class LayerSpec:
    """Per-layer attention settings read from the hub keys (hybrid_layer_pattern: 0 = GA, 1 = SWA)."""

    def __init__(self, cfg, sliding):
        p = "swa_" if sliding else ""
        self.sliding = sliding
        self.n_heads = cfg[p + "num_attention_heads"]
        self.n_kv = cfg[p + "num_key_value_heads"]
        self.head_dim = cfg[p + "head_dim"]
        self.v_head_dim = cfg[p + "v_head_dim"]
        self.theta = cfg[p + "rope_theta"]
        self.rot_dim = int(self.head_dim * cfg["partial_rotary_factor"])
        self.window = cfg["sliding_window"] if sliding else None
        self.sink = cfg["add_swa_attention_sink_bias" if sliding else "add_full_attention_sink_bias"]
        self.value_scale = cfg["attention_value_scale"]


def rms_norm(x, w, eps):
    return w * (x / torch.sqrt((x * x).mean(-1, keepdim=True) + eps))


def rope(x, positions, theta, rot_dim):
    """NeoX rotate-half on dims 0..rot_dim-1 of each head: pair (d, d + rot_dim/2). x: [T, heads, dim]."""
    half = rot_dim // 2
    out = x.clone()
    for d in range(half):
        inv_freq = theta ** (-2.0 * d / rot_dim)
        angle = positions.double() * inv_freq
        cos = torch.cos(angle).float()[:, None]
        sin = torch.sin(angle).float()[:, None]
        a, b = x[:, :, d], x[:, :, d + half]
        out[:, :, d] = a * cos - b * sin
        out[:, :, d + half] = b * cos + a * sin
    return out


def attention(a, W, prefix, spec, positions):
    """One attention block over a whole sequence a: [T, hidden] at the given absolute positions."""
    T = a.shape[0]
    q = (a @ W[prefix + "q_proj.weight"].T).view(T, spec.n_heads, spec.head_dim)
    k = (a @ W[prefix + "k_proj.weight"].T).view(T, spec.n_kv, spec.head_dim)
    v = (a @ W[prefix + "v_proj.weight"].T).view(T, spec.n_kv, spec.v_head_dim) * spec.value_scale
    q = rope(q, positions, spec.theta, spec.rot_dim)
    k = rope(k, positions, spec.theta, spec.rot_dim)
    group = spec.n_heads // spec.n_kv
    out = torch.zeros(T, spec.n_heads, spec.v_head_dim)
    for h in range(spec.n_heads):
        g = h // group
        for i in range(T):
            keys = [j for j in range(T) if positions[j] <= positions[i]
                    and (spec.window is None or positions[i] - positions[j] < spec.window)]
            logits = torch.stack([q[i, h] @ k[j, g] for j in keys]) / math.sqrt(spec.head_dim)
            if spec.sink:
                s = W[prefix + "attention_sink_bias"][h]
                m = torch.maximum(logits.max(), s)
                e = torch.exp(logits - m)
                p = e / (torch.exp(s - m) + e.sum())
            else:
                p = torch.softmax(logits, 0)
            out[i, h] = sum(p[n] * v[j, g] for n, j in enumerate(keys))
    return out.reshape(T, -1) @ W[prefix + "o_proj.weight"].T


def swiglu(m, W, prefix):
    gate = m @ W[prefix + "gate_proj.weight"].T
    up = m @ W[prefix + "up_proj.weight"].T
    return (gate * torch.sigmoid(gate) * up) @ W[prefix + "down_proj.weight"].T


def moe(m, W, prefix, cfg, margins):
    """Sigmoid router, bias for selection only, weights renormalised from the unbiased scores."""
    k = cfg["num_experts_per_tok"]
    scale = cfg["routed_scaling_factor"] if cfg["routed_scaling_factor"] is not None else 1.0
    y = torch.zeros_like(m)
    for t in range(m.shape[0]):
        s = torch.sigmoid(W[prefix + "gate.weight"] @ m[t])
        c = s + W[prefix + "gate.e_score_correction_bias"]
        order = sorted(range(len(c)), key=lambda e: -c[e].item())
        chosen = order[:k]
        margins.append(c[order[k - 1]].item() - c[order[k]].item())
        total = sum(s[e] for e in chosen) + 1e-20
        for e in chosen:
            y[t] += (s[e] / total * scale) * swiglu(m[t:t + 1], W, f"{prefix}experts.{e}.")[0]
    return y


def forward(cfg, W, ids):
    """Returns (logits [T, vocab], final-normed hidden H [T, hidden], routing margins list)."""
    eps = cfg["layernorm_epsilon"]
    positions = torch.arange(len(ids))
    h = W["model.embed_tokens.weight"][torch.tensor(ids)]
    margins = []
    for L in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{L}."
        spec = LayerSpec(cfg, cfg["hybrid_layer_pattern"][L] == 1)
        h = h + attention(rms_norm(h, W[p + "input_layernorm.weight"], eps), W, p + "self_attn.", spec, positions)
        m = rms_norm(h, W[p + "post_attention_layernorm.weight"], eps)
        if cfg["moe_layer_freq"][L]:
            h = h + moe(m, W, p + "mlp.", cfg, margins)
        else:
            h = h + swiglu(m, W, p + "mlp.")
    hidden = rms_norm(h, W["model.norm.weight"], eps)
    return hidden @ W["lm_head.weight"].T, hidden, margins
