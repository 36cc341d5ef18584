package io.tessera.engine;

import io.tessera.api.grammar.Grammar;
import io.tessera.api.grammar.GrammarMatcher;
import java.util.Arrays;
import java.util.Set;

/**
 * A sequence's grammar: its matcher, advanced by every emitted token, and the masks of allowed ids — the
 * grammar's text tokens, plus the sequence's stop tokens where the grammar is complete. Speculative drafts are
 * checked by advancing the matcher through them for a mask and rolling back.
 */
final class Constraint {
    private final GrammarMatcher matcher;
    private final Set<Integer> stop;
    private final int grammarWords;
    private int[] scratch = new int[0];

    Constraint(Grammar grammar, Set<Integer> stop) {
        this.matcher = grammar.matcher();
        this.stop = stop;
        this.grammarWords = (grammar.vocabSize() + 31) >>> 5;
    }

    /**
     * Writes into {@code bits[from, from + width)} the ids allowed after the first {@code drafts} of
     * {@code draft}. A draft the grammar rejects makes every later row's mask irrelevant (verification rejects
     * that draft at its own row, whose mask excludes it): those rows allow everything.
     */
    void fill(int[] bits, int from, int width, int[] draft, int drafts) {
        int accepted = 0;
        while (accepted < drafts && matcher.accept(draft[accepted])) {
            accepted++;
        }
        if (accepted < drafts) {
            Arrays.fill(bits, from, from + width, -1);
        } else {
            if (scratch.length < Math.max(width, grammarWords)) {
                scratch = new int[Math.max(width, grammarWords)];
            }
            matcher.fillMask(scratch);
            System.arraycopy(scratch, 0, bits, from, width);
            boolean complete = matcher.complete();
            boolean empty = true;
            for (int w = 0; w < width && empty; w++) {
                empty = scratch[w] == 0;
            }
            for (int t : stop) {
                if ((complete || empty) && t < width * 32) {   // a dead end can only stop
                    bits[from + (t >>> 5)] |= 1 << (t & 31);
                }
            }
        }
        matcher.rollback(accepted);
    }

    /** Advances by an emitted token (a stop token ends the sequence and is not text). */
    void emitted(int token) {
        matcher.accept(token);
    }
}
