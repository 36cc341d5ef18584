package io.tessera.api.model;

/** Receives tokens as they are accepted (several at once after a speculative step). */
@FunctionalInterface
public interface GenerationListener {
    void onTokens(int[] ids);
}
