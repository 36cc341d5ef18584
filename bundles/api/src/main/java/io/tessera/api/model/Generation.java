package io.tessera.api.model;

import java.util.concurrent.CompletionStage;
import org.osgi.annotation.versioning.ProviderType;

/** A running generation. */
@ProviderType
public interface Generation {
    /** Stops it at the next step boundary and frees its KV; the result ends with {@code CANCELLED}. */
    void cancel();

    /**
     * The result when the generation ends. A generation that fails — a step threw, a missing component stayed
     * away longer than the engine's wait limit, the model failed — completes exceptionally with the reason; one
     * ended by an unload ends with {@code ERROR}.
     */
    CompletionStage<GenerationResult> result();
}
