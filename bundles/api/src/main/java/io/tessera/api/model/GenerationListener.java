package io.tessera.api.model;

import org.osgi.annotation.versioning.ConsumerType;

/** Receives tokens as they are accepted (several at once after a speculative step). */
@FunctionalInterface
@ConsumerType
public interface GenerationListener {
    void onTokens(int[] ids);

    /**
     * One accepted token with its log-probability, which is null unless the request asked for
     * {@link GenerationRequest#logprobs()}. The engine calls this; by default it forwards to {@link #onTokens}.
     */
    default void onToken(int id, TokenLogprob logprob) {
        onTokens(new int[] {id});
    }
}
