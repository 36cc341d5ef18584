"""Float32 reference of the MiMo-V2-Flash MTP blocks, non-chain (spec mimo-v2-flash.md §4).

Block k at position i takes token x[i+k+1] and the main model's final-normed hidden state H[i]
(the vector fed to lm_head), and predicts x[i+k+2]:
    u = eh_proj . concat(RMSNorm(E[x[i+k+1]]; enorm_k), RMSNorm(H[i]; hnorm_k))    # embedding first
    r = u + SWA_Attn_k(RMSNorm(u; input_layernorm_k), position i)   # sink, v * value_scale, swa theta, window
    r = r + DenseMLP_k(RMSNorm(r; pre_mlp_layernorm_k))
    logits = lm_head . RMSNorm(r; final_layernorm_k)                # lm_head and embedding shared
Block k's attention sees its own keys/values of positions 0..i (its inputs at those positions), so over
a prompt it is one causal sliding-window pass over i = 0 .. n-k-2. No embedding zeroing at position 0.

Venv: see make_goldens.py. Used as a library (mtp_logits); no command line.
"""
import torch

from mimo_reference import LayerSpec, attention, rms_norm, swiglu


def mtp_layer_count(W):
    """Not in config.json: count the model.mtp.layers.{k} keys."""
    return len({name.split(".")[3] for name in W if name.startswith("model.mtp.layers.")})


def mtp_input(cfg, W, ids, hidden, k):
    """u [n-k-1, hidden]: row i = eh_proj . concat(enorm(E[ids[i+k+1]]), hnorm(hidden[i]))."""
    eps = cfg["layernorm_epsilon"]
    p = f"model.mtp.layers.{k}."
    n = len(ids) - k - 1
    tokens = torch.tensor(ids[k + 1:k + 1 + n])
    e = rms_norm(W["model.embed_tokens.weight"][tokens], W[p + "enorm.weight"], eps)
    g = rms_norm(hidden[:n], W[p + "hnorm.weight"], eps)
    return torch.cat([e, g], dim=-1) @ W[p + "eh_proj.weight"].T


def mtp_logits(cfg, W, ids, hidden, k):
    """Block-k logits [n-k-1, vocab]: row i predicts ids[i+k+2] from ids[i+k+1] and hidden[i]."""
    eps = cfg["layernorm_epsilon"]
    p = f"model.mtp.layers.{k}."
    r = mtp_input(cfg, W, ids, hidden, k)
    n = r.shape[0]
    spec = LayerSpec(cfg, sliding=True)
    r = r + attention(rms_norm(r, W[p + "input_layernorm.weight"], eps), W, p + "self_attn.", spec, torch.arange(n))
    r = r + swiglu(rms_norm(r, W[p + "pre_mlp_layernorm.weight"], eps), W, p + "mlp.")
    return rms_norm(r, W[p + "final_layernorm.weight"], eps) @ W["lm_head.weight"].T
