package io.tessera.api.checkpoint;

/**
 * How a checkpoint names and stacks its weights. Names are kept exactly as stored; consumers pick the names
 * by layout.
 */
public enum TensorLayout {
    /**
     * The Hugging Face hub layout of MiMo-V2-Flash (spec §2): one tensor per expert projection,
     * {@code model.layers.L.mlp.experts.E.{gate,up,down}_proj.weight}, sinks as
     * {@code self_attn.attention_sink_bias}, MTP blocks under {@code model.mtp.layers.K.}.
     */
    HUB,
    /**
     * The layout transformers' native {@code mimo_v2_flash} writes with {@code save_pretrained}: the experts of a
     * layer stacked in {@code model.layers.L.mlp.experts.gate_up_proj} {@code [experts, 2*moe_intermediate, hidden]}
     * (gate rows first, then up rows) and {@code model.layers.L.mlp.experts.down_proj}
     * {@code [experts, hidden, moe_intermediate]}; sinks as {@code self_attn.sinks}; no MTP blocks.
     */
    NATIVE
}
