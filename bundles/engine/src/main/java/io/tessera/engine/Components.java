package io.tessera.engine;

import io.tessera.api.checkpoint.LayerSpec;
import io.tessera.api.checkpoint.ModelConfig;
import io.tessera.api.kernel.KernelBackend;
import io.tessera.api.model.AttentionFactory;
import io.tessera.api.model.DraftHead;
import io.tessera.api.model.ExpertRouter;
import io.tessera.api.model.FeedForwardFactory;
import io.tessera.api.model.ModelArchitecture;
import io.tessera.api.model.ModelComponents;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * A snapshot of the component services present: model architectures by {@code architectures[0]}, attention
 * factories by {@code attention.kind}, the feed-forward factory, router kinds, the draft head (optional: without it
 * a model runs without speculation) and one backend (the engine offers a model the same components on each
 * registered backend, preferred first). Records compare by service identity, so a model reassembles only when a
 * service it uses changed.
 */
record Components(Map<String, ModelArchitecture> architectures, Map<String, AttentionFactory> attention,
                  FeedForwardFactory feedForward, Set<String> routers, DraftHead draftHead, KernelBackend backend)
        implements ModelComponents {

    /** The architecture serving this config's {@code architectures[0]}, or null. */
    ModelArchitecture architecture(ModelConfig config) {
        return architectures.get(config.architecture());
    }

    @Override

    public AttentionFactory attention(LayerSpec spec) {
        return attention.get(spec.attention().property());
    }

    /** Whether the services this config uses are the same objects in both (the rest may differ). */
    boolean sameServices(ModelConfig config, Components other) {
        if (other == null || architecture(config) != other.architecture(config) || feedForward != other.feedForward
                || draftHead != other.draftHead || backend != other.backend) {
            return false;
        }
        for (LayerSpec spec : config.layers()) {
            if (attention(spec) != other.attention(spec)) {
                return false;
            }
        }
        String router = config.scoringFunc() + "/" + config.topkMethod();
        return routers.contains(router) == other.routers.contains(router);
    }

    /** What a model with this config waits for, as service filters; empty when it can be assembled. */
    List<String> missing(ModelConfig config) {
        List<String> missing = new ArrayList<>();
        if (architecture(config) == null) {
            missing.add("(" + ModelArchitecture.ARCHITECTURE + "=" + config.architecture() + ")");
        }
        if (backend == null) {
            missing.add("(objectClass=" + KernelBackend.class.getName() + ")");
        }
        Set<String> kinds = new TreeSet<>();
        boolean moe = false;
        for (LayerSpec spec : config.layers()) {
            kinds.add(spec.attention().property());
            moe |= spec.moe();
        }
        for (String kind : kinds) {
            if (!attention.containsKey(kind)) {
                missing.add("(" + AttentionFactory.KIND + "=" + kind + ")");
            }
        }
        if (feedForward == null) {
            missing.add("(objectClass=" + FeedForwardFactory.class.getName() + ")");
        }
        String router = config.scoringFunc() + "/" + config.topkMethod();
        if (moe && !routers.contains(router)) {
            missing.add("(" + ExpertRouter.KIND + "=" + router + ")");
        }
        return missing;
    }
}
