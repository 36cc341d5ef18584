package io.tessera.api.model;

import io.tessera.api.checkpoint.LayerSpec;
import org.osgi.annotation.versioning.ProviderType;

/** The component services the engine chose for one assembly, handed to {@link ModelArchitecture#assemble}. */
@ProviderType
public interface ModelComponents {

    /** The attention factory whose {@value AttentionFactory#KIND} matches the layer. */
    AttentionFactory attention(LayerSpec spec);

    FeedForwardFactory feedForward();

    /** The draft head, or null when none is installed (the model then runs without speculation). */
    DraftHead draftHead();
}
