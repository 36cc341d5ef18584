package io.tessera.engine;

/**
 * Where a token constraint (structured outputs) checks drafts: a draft the constraint does not allow ends its
 * sequence's drafts for the step, so the main model never verifies a token the constraint would mask.
 */
@FunctionalInterface
interface DraftConstraint {
    /** No constraint: every draft may be verified. */
    DraftConstraint NONE = (sequence, index, token) -> true;

    /** Whether {@code token} may be draft {@code index} of {@code sequence} (after its drafts {@code 0..index-1}). */
    boolean allows(Sequence sequence, int index, int token);
}
