package io.tessera.api.grammar;

import org.osgi.annotation.versioning.ProviderType;

/**
 * The state of one output under a {@link Grammar}: which tokens may come next. Special tokens (stop tokens among
 * them) are never in the mask: the caller allows its stop tokens when {@link #complete()} holds. One per
 * sequence; not thread-safe.
 */
@ProviderType
public interface GrammarMatcher {

    /**
     * Sets bit {@code t % 32} of {@code bits[t / 32]} for every token {@code t} that may come next and clears the
     * others; {@code bits} holds at least {@code ceil(vocabSize / 32)} ints.
     */
    void fillMask(int[] bits);

    /** Advances by {@code token}; false (the state unchanged) when the grammar does not allow it here. */
    boolean accept(int token);

    /** Whether the output so far is complete (the grammar may end here). */
    boolean complete();

    /** Undoes the last {@code tokens} accepted tokens (speculative drafts that were rejected). */
    void rollback(int tokens);
}
