package io.tessera.api.model;

import java.util.concurrent.CompletionStage;
import org.osgi.annotation.versioning.ProviderType;

/** A running generation. */
@ProviderType
public interface Generation {
    /** Stops it at the next step boundary and frees its KV; the result ends with {@code CANCELLED}. */
    void cancel();

    CompletionStage<GenerationResult> result();
}
