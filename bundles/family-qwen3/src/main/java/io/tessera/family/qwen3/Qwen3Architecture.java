package io.tessera.family.qwen3;

import io.tessera.api.checkpoint.Checkpoint;
import io.tessera.api.checkpoint.CheckpointException;
import io.tessera.api.checkpoint.ConfigFields;
import io.tessera.api.checkpoint.LayerSpec;
import io.tessera.api.checkpoint.ModelConfig;
import io.tessera.api.kernel.KernelBackend;
import io.tessera.api.model.CausalLm;
import io.tessera.api.model.ModelArchitecture;
import io.tessera.api.model.ModelComponents;
import io.tessera.common.model.DecoderConfig;
import io.tessera.common.model.DecoderOnlyLm;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.osgi.service.component.annotations.Component;

/**
 * Qwen3 dense ({@code Qwen3ForCausalLM}) and Qwen3-MoE ({@code Qwen3MoeForCausalLM}): the Llama-style decoder
 * stack with a per-head RMSNorm of q and k before RoPE ({@code q_norm}, {@code k_norm}), GQA, a {@code head_dim}
 * of its own; the MoE variant routes with softmax over {@code num_experts}, keeps the top {@code num_experts_per_tok}
 * and renormalises them when {@code norm_topk_prob}. Defaults are those of transformers' {@code Qwen3Config} and
 * {@code Qwen3MoeConfig}.
 */
@Component(property = {ModelArchitecture.ARCHITECTURE + "=Qwen3ForCausalLM",
        ModelArchitecture.ARCHITECTURE + "=Qwen3MoeForCausalLM",
        ModelArchitecture.MODEL_TYPE + "=qwen3", ModelArchitecture.MODEL_TYPE + "=qwen3_moe"})
public class Qwen3Architecture implements ModelArchitecture {
    private static final DecoderConfig.Defaults DENSE =
            new DecoderConfig.Defaults(151936, 4096, 22016, 32, 32, 128, 1e-6, 32768);
    private static final DecoderConfig.Defaults MOE =
            new DecoderConfig.Defaults(151936, 2048, 6144, 24, 32, 0, 1e-6, 32768);

    @Override
    public ModelConfig config(ConfigFields f) {
        boolean moe = f.architecture().equals("Qwen3MoeForCausalLM") || f.architecture().equals("qwen3_moe");
        DecoderConfig d = DecoderConfig.read(f, moe ? MOE : DENSE);
        // hub configs say num_experts; transformers 5 saves it as num_local_experts
        String expertsKey = f.has("num_local_experts") ? "num_local_experts" : "num_experts";
        int experts = moe ? f.positive(expertsKey, 128, ConfigFields.MAX_EXPERTS) : 0;
        int topk = moe ? f.positive("num_experts_per_tok", 8, Integer.MAX_VALUE) : 0;
        if (topk > experts) {
            f.problem("field 'num_experts_per_tok': " + topk + " exceeds " + expertsKey + " " + experts);
        }
        int sparseStep = moe ? f.positive("decoder_sparse_step", 1, Integer.MAX_VALUE) : 1;
        List<Integer> mlpOnly = moe ? f.integers("mlp_only_layers") : List.of();
        List<LayerSpec> layers = new ArrayList<>(d.layers());
        for (int i = 0; i < d.layers(); i++) {
            // transformers' Qwen3MoeDecoderLayer: sparse unless listed, every decoder_sparse_step-th layer
            boolean sparse = moe && !mlpOnly.contains(i) && experts > 0 && (i + 1) % sparseStep == 0;
            layers.add(d.layer(i, sparse, true));
        }
        return d.config(f, layers, moe ? f.positive("moe_intermediate_size", 768, Integer.MAX_VALUE) : 0, experts,
                topk, moe && f.bool("norm_topk_prob", false));
    }

    @Override
    public CausalLm assemble(KernelBackend backend, Checkpoint checkpoint, ModelComponents components, int maxRows,
                             int sequences, Consumer<String> progress) throws CheckpointException {
        return new DecoderOnlyLm(backend, checkpoint, components, maxRows, progress);
    }
}
