#!/usr/bin/env python3
"""Trains the embedded default model: a tiny MiMo-V2-Flash-architecture model on the JDK's Java sources.

The main model is Hugging Face transformers' own `mimo_v2_flash` (built by tools/reference/native_port.py
from a hub config): hybrid sliding-window (with sink) and global layers, a dense first layer, MoE with the
sigmoid router. The router's e_score_correction_bias is not trained by gradient: after each step it moves
by a fixed amount towards balanced expert load (aux-loss-free balancing, as in DeepSeek-V3). The three MTP
blocks follow spec §4, non-chain: block k takes the main model's final-normed hidden state H[i] and token
x[i+k+1] and predicts x[i+k+2]; each is one sliding-window layer with a dense MLP, sharing the embedding and
lm_head. Loss = main cross-entropy + MTP_WEIGHT x the sum of the three block losses.

The corpus is the JDK's own lib/src.zip (license headers removed); files whose name hashes to 0 mod 50 are
held out. The tokenizer is a byte-level BPE in MiMo's tokenizer.json form (tools/fixtures/make_fixtures.py).
The export is the hub layout (FP8 E4M3 with 128x128-block scales where a matrix is FP8 in MiMo, BF16
elsewhere), then held-out perplexity is measured on the BF16 and on the FP8 export, and per-head MTP accuracy
on the FP8 export. Everything is seeded; torch runs on 2 threads.

Venv: as tools/fixtures/make_fixtures.py says. Run from the repository root (about an hour on 2 cores):
    .venv/bin/python tools/train/train_java_model.py --jdk $JAVA_HOME --work build/train --out distribution/model
    (--steps N to change the length; --time-steps 20 only times a few steps and exits)
Writes the model to --out, and train.log, checkpoints and report.json to --work. Then
tools/reference/make_goldens.py writes the model's goldens.
"""
import argparse
import json
import math
import os
import random
import sys
import time
import zipfile
import zlib

import numpy as np
import torch
import torch.nn.functional as F
from tokenizers import Tokenizer

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "fixtures"))
sys.path.insert(0, os.path.join(HERE, "..", "reference"))

import make_fixtures as fx  # noqa: E402
from native_port import build_model, dequantize_all, load_hub, native_config, native_state_dict  # noqa: E402
from transformers import MiMoV2FlashForCausalLM, MiMoV2FlashModel  # noqa: E402
from transformers.models.mimo_v2_flash.modeling_mimo_v2_flash import MiMoV2FlashRMSNorm  # noqa: E402

# The model: hidden a multiple of 128 so most matrices are whole FP8 blocks.
MODEL = dict(
    hidden_size=128, num_hidden_layers=6, hybrid_layer_pattern=[0, 1, 1, 1, 1, 0],
    moe_layer_freq=[0, 1, 1, 1, 1, 1], sliding_window=32, vocab_size=2048, tokenizer_vocab=2048,
    num_attention_heads=4, num_key_value_heads=1, head_dim=64, v_head_dim=32, partial_rotary_factor=0.5,
    rope_theta=1_000_000.0, swa_rope_theta=10_000.0, intermediate_size=384, moe_intermediate_size=64,
    n_routed_experts=8, num_experts_per_tok=2, attention_value_scale=0.707, shards=1, legacy_merges=True)
NAME = "tessera-java-mini"
SEQ = 256            # training context
BATCH = 16           # sequences per step
MTP_WEIGHT = 0.3
LR, WARMUP, MIN_LR = 3e-3, 200, 3e-4
BIAS_STEP = 1e-3     # correction-bias update per step
HELD_OUT_MOD = 50
SKIP_MODULES = ("jdk.localedata", "jdk.charsets", "jdk.incubator.vector")
CORPUS_BYTES = 48_000_000


def seed_all(seed):
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def strip_header(text):
    """Drops the leading license comment (every JDK file starts with one)."""
    if text.startswith("/*"):
        end = text.find("*/")
        if end > 0 and ("Copyright" in text[:end] or "DO NOT ALTER" in text[:end]):
            return text[end + 2:].lstrip("\n")
    return text


def read_corpus(jdk):
    """(train texts, held-out texts): .java files of src.zip in name order, split by a hash of the name."""
    train, held = [], []
    with zipfile.ZipFile(os.path.join(jdk, "lib", "src.zip")) as z:
        names = sorted(n for n in z.namelist() if n.endswith(".java") and not n.startswith(SKIP_MODULES))
        # A fixed, spread-out subset up to CORPUS_BYTES: every file whose hash falls under the fraction needed.
        total = sum(z.getinfo(n).file_size for n in names)
        keep = min(1.0, CORPUS_BYTES / total)
        for n in names:
            h = zlib.crc32(n.encode())
            if (h % 10_000) / 10_000 >= keep and h % HELD_OUT_MOD:
                continue
            text = strip_header(z.read(n).decode("utf-8"))
            (held if h % HELD_OUT_MOD == 0 else train).append(text)
    return train, held


def encode_stream(tok, texts):
    """One uint16 id stream, files separated by <|endoftext|>."""
    eot = tok.token_to_id("<|endoftext|>")
    out = []
    for enc in tok.encode_batch(texts):
        out.extend(enc.ids)
        out.append(eot)
    return np.array(out, dtype=np.uint16)


class MtpBlock(torch.nn.Module):
    """Spec §4 block k: u = eh_proj.[enorm(E[t]); hnorm(H)], then one SWA layer with a dense MLP, final norm.
    The layer is transformers' own one-layer model fed inputs_embeds = u (its norm is final_layernorm)."""

    def __init__(self, hub_cfg):
        super().__init__()
        H, eps = hub_cfg["hidden_size"], hub_cfg["layernorm_epsilon"]
        self.enorm = MiMoV2FlashRMSNorm(H, eps)
        self.hnorm = MiMoV2FlashRMSNorm(H, eps)
        self.eh_proj = torch.nn.Linear(2 * H, H, bias=False)
        config = native_config(dict(hub_cfg, num_hidden_layers=1, hybrid_layer_pattern=[1], moe_layer_freq=[0]))
        config._attn_implementation = "eager"
        self.layer = MiMoV2FlashModel(config)
        self.layer.embed_tokens = None  # the main model's embedding is shared

    def forward(self, embedded, hidden):
        u = self.eh_proj(torch.cat([self.enorm(embedded), self.hnorm(hidden)], dim=-1))
        return self.layer(inputs_embeds=u).last_hidden_state


# Hub names of an MTP block's tensors -> names inside MtpBlock.
MTP_NAMES = {"enorm.weight": "enorm.weight", "hnorm.weight": "hnorm.weight", "eh_proj.weight": "eh_proj.weight",
             "input_layernorm.weight": "layer.layers.0.input_layernorm.weight",
             "pre_mlp_layernorm.weight": "layer.layers.0.post_attention_layernorm.weight",
             "final_layernorm.weight": "layer.norm.weight",
             "self_attn.attention_sink_bias": "layer.layers.0.self_attn.sinks"}
for _p in ("q_proj", "k_proj", "v_proj", "o_proj"):
    MTP_NAMES[f"self_attn.{_p}.weight"] = f"layer.layers.0.self_attn.{_p}.weight"
for _p in ("gate_proj", "up_proj", "down_proj"):
    MTP_NAMES[f"mlp.{_p}.weight"] = f"layer.layers.0.mlp.{_p}.weight"


class Trainee(torch.nn.Module):
    def __init__(self, hub_cfg, main, mtp_count=fx.MTP_LAYERS):
        super().__init__()
        self.main = main
        self.mtp = torch.nn.ModuleList(MtpBlock(hub_cfg) for _ in range(mtp_count))

    def losses(self, window, n_valid):
        """window [B, SEQ+4]: main loss on positions 0..SEQ-1, block k on token x[i+k+1] predicting x[i+k+2]."""
        x = window[:, :SEQ]
        hidden = self.main.model(x).last_hidden_state
        logits = self.main.lm_head(hidden)[..., :n_valid]
        out = [F.cross_entropy(logits.flatten(0, 1), window[:, 1:SEQ + 1].flatten())]
        embed = self.main.model.embed_tokens
        for k, block in enumerate(self.mtp):
            r = block(embed(window[:, k + 1:k + 1 + SEQ]), hidden)
            mlogits = self.main.lm_head(r)[..., :n_valid]
            out.append(F.cross_entropy(mlogits.flatten(0, 1), window[:, k + 2:k + 2 + SEQ].flatten()))
        return out

    def hub_weights(self, hub_cfg):
        """{hub name: float32 tensor} of every tensor make_fixtures.tensor_specs lists."""
        native = {k: v.detach().float() for k, v in self.main.state_dict().items()}
        W = {}
        for L in range(hub_cfg["num_hidden_layers"]):
            p = f"model.layers.{L}.mlp."
            if hub_cfg["moe_layer_freq"][L]:
                gate_up, down = native.pop(p + "experts.gate_up_proj"), native.pop(p + "experts.down_proj")
                inter = hub_cfg["moe_intermediate_size"]
                for e in range(hub_cfg["n_routed_experts"]):
                    W[f"{p}experts.{e}.gate_proj.weight"] = gate_up[e, :inter]
                    W[f"{p}experts.{e}.up_proj.weight"] = gate_up[e, inter:]
                    W[f"{p}experts.{e}.down_proj.weight"] = down[e]
        for key, t in native.items():
            if "rotary_emb" not in key:
                W[key.replace("self_attn.sinks", "self_attn.attention_sink_bias")] = t
        for k, block in enumerate(self.mtp):
            state = block.state_dict()
            for hub, local in MTP_NAMES.items():
                W[f"model.mtp.layers.{k}.{hub}"] = state[local].detach().float()
        return W

    def load_hub_weights(self, hub_cfg, W):
        loads = [(self.main, native_state_dict(hub_cfg, W))]
        loads += [(block, {local: W[f"model.mtp.layers.{k}.{hub}"] for hub, local in MTP_NAMES.items()})
                  for k, block in enumerate(self.mtp)]
        for module, state in loads:
            result = module.load_state_dict(state, strict=False)
            if result.unexpected_keys or any("rotary_emb" not in key for key in result.missing_keys):
                raise ValueError(f"weights do not fit the model: {result}")


class BiasBalancer:
    """Counts expert choices per MoE layer through router hooks; after a step moves each correction bias by
    BIAS_STEP towards the mean load."""

    def __init__(self, main):
        self.gates = [layer.mlp.gate for layer in main.model.layers if hasattr(layer.mlp, "gate")]
        self.counts = [torch.zeros(g.num_experts) for g in self.gates]
        for i, g in enumerate(self.gates):
            g.register_forward_hook(lambda m, a, out, i=i: self.count(i, out[2]))

    def count(self, layer, chosen):
        self.counts[layer] += torch.bincount(chosen.flatten(), minlength=len(self.counts[layer])).float()

    def step(self):
        imbalance = []
        for g, c in zip(self.gates, self.counts):
            g.e_score_correction_bias += BIAS_STEP * torch.sign(c.mean() - c)
            imbalance.append((c.max() / c.mean()).item())
            c.zero_()
        return max(imbalance)


def lr_at(step, steps):
    if step < WARMUP:
        return LR * (step + 1) / WARMUP
    t = (step - WARMUP) / max(1, steps - WARMUP)
    return MIN_LR + 0.5 * (LR - MIN_LR) * (1 + math.cos(math.pi * t))


def quantize(W, specs):
    """Hub tensors in hub dtypes: FP8 blocks (plain amax/448 scales) where MiMo has FP8, BF16 or F32 elsewhere."""
    out = {}
    for name, shape, kind in specs:
        t = W[name]
        if tuple(t.shape) != tuple(shape):
            raise ValueError(f"{name}: trained shape {tuple(t.shape)}, hub layout wants {shape}")
        if kind == "fp8":
            out[name], out[name + "_scale_inv"] = fx.quantize_fp8(t)
        elif kind in ("router", "bias"):
            out[name] = t.float().contiguous()
        else:
            out[name] = t.to(torch.bfloat16).contiguous()
    return out


@torch.no_grad()
def evaluate(trainee, stream, n_valid, windows=48):
    """Held-out mean NLL of the main model and top-1 accuracy of each MTP block (vs the real next tokens)."""
    trainee.eval()
    starts = np.linspace(0, len(stream) - SEQ - 5, windows).astype(np.int64)
    nll, correct, count = 0.0, [0] * len(trainee.mtp), 0
    for s in starts:
        w = torch.from_numpy(stream[s:s + SEQ + 4].astype(np.int64))[None]
        x = w[:, :SEQ]
        hidden = trainee.main.model(x).last_hidden_state
        logits = trainee.main.lm_head(hidden)[..., :n_valid]
        nll += F.cross_entropy(logits[0], w[0, 1:SEQ + 1], reduction="sum").item()
        embed = trainee.main.model.embed_tokens
        for k, block in enumerate(trainee.mtp):
            pred = trainee.main.lm_head(block(embed(w[:, k + 1:k + 1 + SEQ]), hidden))[..., :n_valid].argmax(-1)
            correct[k] += (pred[0] == w[0, k + 2:k + 2 + SEQ]).sum().item()
        count += SEQ
    trainee.train()
    return nll / count, [c / count for c in correct]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--jdk", default=os.environ.get("JAVA_HOME"))
    ap.add_argument("--work", default="build/train")
    ap.add_argument("--out", default="distribution/model")
    ap.add_argument("--steps", type=int, default=1400)
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--time-steps", type=int, default=0, help="time this many steps and exit")
    args = ap.parse_args()
    if not args.jdk:
        sys.exit("give --jdk or set JAVA_HOME (the corpus is the JDK's lib/src.zip)")
    torch.set_num_threads(2)
    seed_all(args.seed)
    os.makedirs(args.work, exist_ok=True)
    log = open(os.path.join(args.work, "train.log"), "a", buffering=1)

    def say(msg):
        print(msg, flush=True)
        log.write(msg + "\n")

    t0 = time.time()
    train_texts, held_texts = read_corpus(args.jdk)
    tok = fx.train_tokenizer(train_texts[::8], MODEL["tokenizer_vocab"])
    n_valid = tok.get_vocab_size(with_added_tokens=True)
    train, held = encode_stream(tok, train_texts), encode_stream(tok, held_texts)
    say(f"corpus: {len(train_texts)} train files ({sum(map(len, train_texts)) / 1e6:.1f} MB, {len(train) / 1e6:.2f}M "
        f"tokens), {len(held_texts)} held-out files ({len(held) / 1e6:.2f}M tokens); tokenizer {n_valid} ids; "
        f"{time.time() - t0:.0f} s")

    hub_cfg = fx.hub_config(NAME, dict(MODEL, seed=args.seed), tok)
    hub_cfg["_fixture"] = f"{NAME}: trained on JDK sources by tools/train/train_java_model.py, seed {args.seed}"
    config = native_config(hub_cfg)
    config._attn_implementation = "eager"
    main_model = MiMoV2FlashForCausalLM(config)
    trainee = Trainee(hub_cfg, main_model)
    balancer = BiasBalancer(main_model)
    params = [p for p in trainee.parameters() if p.requires_grad]
    say(f"parameters: {sum(p.numel() for p in params) / 1e6:.2f}M")
    decay = [p for p in params if p.dim() >= 2]
    no_decay = [p for p in params if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=LR, betas=(0.9, 0.95))
    rng = np.random.default_rng(args.seed)
    steps = args.time_steps or args.steps
    t_train = time.time()
    for step in range(steps):
        for group in opt.param_groups:
            group["lr"] = lr_at(step, steps)
        starts = rng.integers(0, len(train) - SEQ - 5, BATCH)
        window = torch.from_numpy(np.stack([train[s:s + SEQ + 4] for s in starts]).astype(np.int64))
        losses = trainee.losses(window, n_valid)
        loss = losses[0] + MTP_WEIGHT * sum(losses[1:])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        imbalance = balancer.step()
        if step % 10 == 0 or step == steps - 1:
            rate = (step + 1) * BATCH * SEQ / (time.time() - t_train)
            say(f"step {step} loss {losses[0].item():.3f} mtp {' '.join(f'{l.item():.3f}' for l in losses[1:])} "
                f"lr {lr_at(step, steps):.2e} expert-load max/mean {imbalance:.2f} {rate:.0f} tok/s "
                f"{(time.time() - t_train) / 60:.1f} min")
        if step % 500 == 499:
            torch.save(trainee.state_dict(), os.path.join(args.work, "trainee.pt"))
    if args.time_steps:
        return
    torch.save(trainee.state_dict(), os.path.join(args.work, "trainee.pt"))
    export(trainee, hub_cfg, tok, held, n_valid, args, say, time.time() - t_train)


def tokenizer_config(tok):
    """The fixtures' tokenizer_config.json with MiMo's chat template (the tokenizer bundle's), so chat works as on MiMo."""
    config = fx.tokenizer_config(tok)
    with open(os.path.join(HERE, "..", "..", "bundles", "tokenizer", "src", "main", "resources", "io", "tessera",
                           "tokenizer", "mimo_chat_template.jinja"), encoding="utf-8") as f:
        config["chat_template"] = f.read()
    return config


def export(trainee, hub_cfg, tok, held, n_valid, args, say, train_seconds):
    W = trainee.hub_weights(hub_cfg)
    specs = fx.tensor_specs(MODEL)
    missing = set(W) ^ {name for name, _, _ in specs}
    if missing:
        raise ValueError(f"trained tensors and hub layout differ: {sorted(missing)[:8]}")
    report = {"train_minutes": round(train_seconds / 60, 1), "steps": args.steps, "seq": SEQ, "batch": BATCH}
    # BF16 export: every tensor rounded to BF16 (router and bias kept F32), as a BF16 checkpoint would hold them.
    bf16 = {n: W[n] if kind in ("router", "bias") else W[n].to(torch.bfloat16).float() for n, _, kind in specs}
    trainee.load_hub_weights(hub_cfg, bf16)
    nll, acc = evaluate(trainee, held, n_valid)
    report["bf16"] = {"held_out_nll": nll, "perplexity": math.exp(nll), "mtp_top1_accuracy": acc}
    hub = quantize(W, specs)
    trainee.load_hub_weights(hub_cfg, dequantize_all(hub))
    nll, acc = evaluate(trainee, held, n_valid)
    report["fp8"] = {"held_out_nll": nll, "perplexity": math.exp(nll), "mtp_top1_accuracy": acc}
    say(f"report: {json.dumps(report)}")
    os.makedirs(args.out, exist_ok=True)
    fx.write_json(os.path.join(args.out, "config.json"), hub_cfg)
    fx.write_safetensors(args.out, hub, 1)
    fx.write_json(os.path.join(args.out, "tokenizer.json"), fx.tokenizer_json(tok, MODEL["legacy_merges"]))
    fx.write_json(os.path.join(args.out, "tokenizer_config.json"), tokenizer_config(tok))
    fx.write_json(os.path.join(args.work, "report.json"), report)
    # The export must load in transformers through the independent path and give the FP8 figure again.
    cfg, weights = load_hub(args.out)
    check = build_model(cfg, weights)
    with torch.no_grad():
        w = torch.from_numpy(held[:SEQ + 1].astype(np.int64))[None]
        logits = check(w[:, :SEQ]).logits[0, :, :n_valid]
        say(f"reloaded export: NLL of the first held-out window {F.cross_entropy(logits, w[0, 1:]).item():.3f}")


if __name__ == "__main__":
    main()
