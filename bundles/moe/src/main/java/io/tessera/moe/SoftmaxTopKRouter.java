package io.tessera.moe;

import io.tessera.api.checkpoint.ModelConfig;
import io.tessera.api.kernel.Buffer;
import io.tessera.api.kernel.KernelBackend;
import io.tessera.api.kernel.ScoreFunction;
import io.tessera.api.kernel.Weight;
import io.tessera.api.model.ExpertRouter;
import org.osgi.service.component.annotations.Component;

/**
 * Softmax routing as Mixtral and Qwen3-MoE use it: softmax over all experts in F32, the top-k probabilities,
 * renormalised when {@code norm_topk_prob}; no correction bias, no scaling.
 */
@Component(property = ExpertRouter.KIND + "=" + SoftmaxTopKRouter.KIND)
public class SoftmaxTopKRouter implements ExpertRouter {
    static final String KIND = "softmax/greedy";

    @Override
    public void route(KernelBackend backend, ModelConfig config, Buffer logits, Weight correctionBias, int n,
                      boolean replay, Buffer ids, Buffer weights) {
        backend.route(logits, null, n, config.expertsPerToken(), ScoreFunction.SOFTMAX, config.normTopkProb(),
                (float) config.routedScalingFactor(), replay, ids, weights);
    }
}
