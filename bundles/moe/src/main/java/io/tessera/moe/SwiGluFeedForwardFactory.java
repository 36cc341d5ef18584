package io.tessera.moe;

import io.tessera.api.checkpoint.Checkpoint;
import io.tessera.api.checkpoint.CheckpointException;
import io.tessera.api.checkpoint.LayerSpec;
import io.tessera.api.checkpoint.ModelConfig;
import io.tessera.api.kernel.KernelBackend;
import io.tessera.api.model.ExpertRouter;
import io.tessera.api.model.FeedForward;
import io.tessera.api.model.FeedForwardFactory;
import io.tessera.common.osgi.RankedServices;
import org.osgi.framework.ServiceReference;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;

/**
 * Dense SwiGLU MLPs (layer 0, MTP blocks) and routed-expert MoE layers. A MoE layer uses the {@link ExpertRouter}
 * whose {@value ExpertRouter#KIND} is the config's {@code scoring_func/topk_method}: of several, the highest
 * {@code service.ranking}, chosen at each step, so removing it falls back to the next without a reassembly (a
 * router is a stateless function).
 */
@Component
public class SwiGluFeedForwardFactory implements FeedForwardFactory {
    private final RankedServices<ExpertRouter> routers = new RankedServices<>();

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    void addRouter(ServiceReference<ExpertRouter> reference, ExpertRouter router) {
        routers.add(reference, ExpertRouter.KIND, router);
    }

    void removeRouter(ServiceReference<ExpertRouter> reference) {
        routers.remove(reference, ExpertRouter.KIND);
    }

    /** The router kind a config needs, e.g. {@code sigmoid/noaux_tc}. */
    private static String routerKind(ModelConfig config) {
        return config.scoringFunc() + "/" + config.topkMethod();
    }

    @Override
    public FeedForward create(KernelBackend backend, Checkpoint checkpoint, String prefix, LayerSpec spec,
                              int maxRows) throws CheckpointException {
        ModelConfig config = checkpoint.config();
        if (!spec.moe()) {
            return new DenseMlp(backend, checkpoint, prefix, config.intermediateSize(), maxRows);
        }
        if (config.nGroup() != 1 || config.topkGroup() != 1) {
            throw new CheckpointException(checkpoint.directory().resolve("config.json"),
                    "n_group=" + config.nGroup() + ", topk_group=" + config.topkGroup()
                            + ": group-limited routing is not supported (MiMo-V2-Flash uses 1/1)");
        }
        String kind = routerKind(config);
        if (routers.best(kind) == null) {
            throw new IllegalStateException("waiting for " + ExpertRouter.KIND + "=" + kind);
        }
        return new MoeMlp(backend, checkpoint, prefix, spec, () -> routers.best(kind), maxRows);
    }
}
