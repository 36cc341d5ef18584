package io.tessera.api.checkpoint;

/** The attention variant of a layer; {@link #property()} is the {@code attention.kind} service property value. */
public enum AttentionKind {
    /** Full causal attention over the whole context (GA layers). */
    GLOBAL("global"),
    /** Sliding-window attention with an optional per-head sink (SWA and MTP layers). */
    SLIDING_WINDOW("sliding-window");

    private final String property;

    AttentionKind(String property) {
        this.property = property;
    }

    /** The value of the {@code attention.kind} service property that selects an implementation. */
    public String property() {
        return property;
    }
}
