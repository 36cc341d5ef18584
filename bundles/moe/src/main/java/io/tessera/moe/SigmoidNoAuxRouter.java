package io.tessera.moe;

import io.tessera.api.checkpoint.ModelConfig;
import io.tessera.api.kernel.Buffer;
import io.tessera.api.kernel.KernelBackend;
import io.tessera.api.kernel.ScoreFunction;
import io.tessera.api.kernel.Weight;
import io.tessera.api.model.ExpertRouter;
import org.osgi.service.component.annotations.Component;

/**
 * DeepSeek-V3-style routing as MiMo-V2-Flash uses it (spec §3): sigmoid scores, selection by score +
 * {@code e_score_correction_bias}, weights from the unbiased scores renormalised, times routed_scaling_factor.
 * With n_group = topk_group = 1 the group filter is a no-op; other group settings are refused at load.
 */
@Component(property = ExpertRouter.KIND + "=" + SigmoidNoAuxRouter.KIND)
public class SigmoidNoAuxRouter implements ExpertRouter {
    static final String KIND = "sigmoid/noaux_tc";

    @Override
    public void route(KernelBackend backend, ModelConfig config, Buffer logits, Weight correctionBias, int n,
                      boolean replay, Buffer ids, Buffer weights) {
        backend.route(logits, correctionBias, n, config.expertsPerToken(), ScoreFunction.SIGMOID, config.normTopkProb(),
                (float) config.routedScalingFactor(), replay, ids, weights);
    }
}
