package io.tessera.api.model;

import io.tessera.api.checkpoint.ModelConfig;
import io.tessera.api.kernel.Buffer;
import io.tessera.api.kernel.KernelBackend;
import io.tessera.api.kernel.Weight;
import org.osgi.annotation.versioning.ProviderType;

/**
 * Chooses experts from router logits. Registered with {@value #KIND} = the config's
 * {@code scoring_func + "/" + topk_method}, e.g. {@code sigmoid/noaux_tc}.
 */
@ProviderType
public interface ExpertRouter {
    String KIND = "router.kind";

    /**
     * Writes I32 {@code ids [R, k]} and F32 {@code weights [R, k]} for the first {@code n} rows of F32
     * {@code logits [R, experts]}; routing math in F32. With {@code replay}, {@code ids} holds the experts to use
     * and only the weights are computed.
     */
    void route(KernelBackend backend, ModelConfig config, Buffer logits, Weight correctionBias, int n,
               boolean replay, Buffer ids, Buffer weights);
}
