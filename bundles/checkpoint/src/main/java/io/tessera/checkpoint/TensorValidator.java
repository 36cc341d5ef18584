package io.tessera.checkpoint;

import io.tessera.api.DType;
import io.tessera.api.Tensor;
import io.tessera.api.checkpoint.LayerSpec;
import io.tessera.api.checkpoint.ModelConfig;
import io.tessera.api.checkpoint.TensorLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Checks that a checkpoint holds every tensor its config implies (spec §2), with the expected shape and a
 * dtype the runtime can read: float for norms, biases, sinks, router and embeddings; float or FP8 (with its
 * block scales, checked when they are attached) for the linear projections.
 */
final class TensorValidator {
    private static final Set<DType> FLOATS = Set.of(DType.F32, DType.BF16, DType.F16);
    /** Problems listed one by one; beyond this a count (a wrong config could otherwise list millions). */
    static final int MAX_LISTED = 1000;

    private final ModelConfig config;
    private final TensorLayout layout;
    private final Map<String, Tensor> tensors;
    private final Set<String> ignored;
    private final List<String> problems = new ArrayList<>();
    private int unlisted;
    private final Set<String> seen = new HashSet<>();

    TensorValidator(ModelConfig config, TensorLayout layout, Map<String, Tensor> tensors) {
        this.config = config;
        this.layout = layout;
        this.tensors = tensors;
        this.ignored = config.quantization().map(q -> Set.copyOf(q.ignoredLayers())).orElse(Set.of());
    }

    /** Problems found, then the names of tensors no rule expects (not an error: listed by model:inspect). */
    record Result(List<String> problems, List<String> unexpected) {
    }

    static Result validate(ModelConfig config, TensorLayout layout, Map<String, Tensor> tensors) {
        TensorValidator v = new TensorValidator(config, layout, tensors);
        long expected = v.expectedCount();
        if (expected > 2L * tensors.size() + 64) {
            return new Result(List.of("config.json implies " + expected + " tensors but the checkpoint holds "
                    + tensors.size() + ": a config for another model, or most weights missing"), List.of());
        }
        v.run();
        if (v.unlisted > 0) {
            v.problems.add("... and " + v.unlisted + " more problems");
        }
        List<String> unexpected = tensors.keySet().stream().filter(n -> !v.seen.contains(n)).toList();
        return new Result(List.copyOf(v.problems), unexpected);
    }

    /** How many tensors {@link #run()} will look for, computed without enumerating them. */
    long expectedCount() {
        long n = 3;
        for (LayerSpec layer : config.layers()) {
            n += 2 + 4 + (layer.sink() ? 1 : 0) + (layer.qkNorm() ? 2 : 0);
            n += layer.moe() ? 2 + (layout == TensorLayout.NATIVE ? 2 : 3L * config.routedExperts()) : 3;
        }
        for (LayerSpec mtp : config.mtpLayers()) {
            n += 6 + 4 + 3 + (mtp.sink() ? 1 : 0); // norms and eh_proj, attention, dense MLP
        }
        return n;
    }

    private void problem(String text) {
        if (problems.size() < MAX_LISTED) {
            problems.add(text);
        } else {
            unlisted++;
        }
    }

    private void run() {
        long hidden = config.hiddenSize();
        long vocab = config.vocabSize();
        expect("model.embed_tokens.weight", false, vocab, hidden);
        expect("model.norm.weight", false, hidden);
        if (!config.tieWordEmbeddings() || tensors.containsKey("lm_head.weight")) {
            expect("lm_head.weight", false, vocab, hidden);
        }
        for (LayerSpec layer : config.layers()) {
            String p = "model.layers." + layer.index() + ".";
            expect(p + "input_layernorm.weight", false, hidden);
            attention(p, layer);
            expect(p + "post_attention_layernorm.weight", false, hidden);
            if (layer.moe()) {
                moe(p + "mlp.");
            } else {
                denseMlp(p + "mlp.");
            }
        }
        for (int k = 0; k < config.mtpLayers().size(); k++) {
            String p = "model.mtp.layers." + k + ".";
            expect(p + "enorm.weight", false, hidden);
            expect(p + "hnorm.weight", false, hidden);
            expect(p + "eh_proj.weight", true, hidden, 2 * hidden);
            expect(p + "input_layernorm.weight", false, hidden);
            attention(p, config.mtpLayers().get(k));
            expect(p + "pre_mlp_layernorm.weight", false, hidden);
            denseMlp(p + "mlp.");
            expect(p + "final_layernorm.weight", false, hidden);
        }
    }

    private void attention(String p, LayerSpec layer) {
        long hidden = config.hiddenSize();
        expect(p + "self_attn.q_proj.weight", true, (long) layer.heads() * layer.headDim(), hidden);
        expect(p + "self_attn.k_proj.weight", true, (long) layer.kvHeads() * layer.headDim(), hidden);
        expect(p + "self_attn.v_proj.weight", true, (long) layer.kvHeads() * layer.valueHeadDim(), hidden);
        expect(p + "self_attn.o_proj.weight", true, hidden, (long) layer.heads() * layer.valueHeadDim());
        if (layer.qkNorm()) {
            expect(p + "self_attn.q_norm.weight", false, layer.headDim());
            expect(p + "self_attn.k_norm.weight", false, layer.headDim());
        }
        if (layer.sink()) {
            expect(p + (layout == TensorLayout.NATIVE ? "self_attn.sinks" : "self_attn.attention_sink_bias"),
                    false, layer.heads());
        }
    }

    private void denseMlp(String p) {
        long hidden = config.hiddenSize();
        long inner = config.intermediateSize();
        expect(p + "gate_proj.weight", true, inner, hidden);
        expect(p + "up_proj.weight", true, inner, hidden);
        expect(p + "down_proj.weight", true, hidden, inner);
    }

    private void moe(String p) {
        long hidden = config.hiddenSize();
        long inner = config.moeIntermediateSize();
        int experts = config.routedExperts();
        expect(p + "gate.weight", false, experts, hidden);
        if (config.topkMethod().equals("noaux_tc")) {   // the correction bias is what noaux_tc selects with
            expect(p + "gate.e_score_correction_bias", false, experts);
        }
        if (layout == TensorLayout.NATIVE) {
            expect(p + "experts.gate_up_proj", true, experts, 2 * inner, hidden);
            expect(p + "experts.down_proj", true, experts, hidden, inner);
            return;
        }
        for (int e = 0; e < experts; e++) {
            String x = p + "experts." + e + ".";
            expect(x + "gate_proj.weight", true, inner, hidden);
            expect(x + "up_proj.weight", true, inner, hidden);
            expect(x + "down_proj.weight", true, hidden, inner);
        }
    }

    /** One expected tensor; {@code linear}: may be stored as FP8 with block scales. */
    private void expect(String name, boolean linear, long... shape) {
        seen.add(name);
        Tensor t = tensors.get(name);
        if (t == null) {
            problem("tensor '" + name + "': missing (expected " + Arrays.toString(shape) + ")");
            return;
        }
        if (!Arrays.equals(t.shape(), shape)) {
            problem("tensor '" + name + "': shape " + Arrays.toString(t.shape()) + ", expected "
                    + Arrays.toString(shape));
        }
        if (t.dtype() == DType.F8_E4M3 && linear) {
            String module = name.endsWith(".weight") ? name.substring(0, name.length() - ".weight".length()) : name;
            if (config.quantization().isEmpty()) {
                problem("tensor '" + name + "': F8_E4M3 but config.json has no quantization_config");
            } else if (ignored.contains(module)) {
                problem("tensor '" + name + "': F8_E4M3 but quantization_config.ignored_layers lists it");
            }
        } else if (!FLOATS.contains(t.dtype())) {
            problem("tensor '" + name + "': dtype " + t.dtype() + ", expected F32, BF16 or F16"
                    + (linear ? " (or F8_E4M3 with block scales)" : ""));
        }
    }
}
