package io.tessera.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.tessera.api.grammar.Grammar;
import io.tessera.api.grammar.GrammarMatcher;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The masks a sequence's grammar gives its rows: stop tokens where complete, drafts tried and rolled back. */
class ConstraintTest {
    /** Ids 0–9 are digits; the grammar takes one to three digits. Id 40 is the stop token; the vocabulary is 41. */
    private static final Grammar DIGITS = new Grammar() {
        @Override
        public GrammarMatcher matcher() {
            return new GrammarMatcher() {
                private int length;

                @Override
                public void fillMask(int[] bits) {
                    java.util.Arrays.fill(bits, 0);
                    bits[0] = length < 3 ? 0x3ff : 0;
                }

                @Override
                public boolean accept(int token) {
                    if (token > 9 || length == 3) {
                        return false;
                    }
                    length++;
                    return true;
                }

                @Override
                public boolean complete() {
                    return length > 0;
                }

                @Override
                public void rollback(int tokens) {
                    length -= tokens;
                }
            };
        }

        @Override
        public int vocabSize() {
            return 41;
        }
    };

    @Test
    void stopTokensOnlyWhereCompleteAndDraftsRolledBack() {
        Constraint c = new Constraint(DIGITS, Set.of(40));
        int[] bits = new int[4];   // wider than the grammar's two words, as a model's padded vocabulary is
        c.fill(bits, 0, 2, new int[0], 0);
        assertArrayEquals(new int[] {0x3ff, 0, 0, 0}, bits, "no digit yet: digits only, no stop");
        c.fill(bits, 2, 2, new int[] {1, 2}, 2);
        assertArrayEquals(new int[] {0x3ff, 1 << 8}, java.util.Arrays.copyOfRange(bits, 2, 4), "after two drafts");
        c.fill(bits, 0, 2, new int[] {1, 2, 3}, 3);
        assertArrayEquals(new int[] {0, 1 << 8, 0x3ff, 1 << 8}, bits, "three digits: only the stop token");
        c.fill(bits, 0, 2, new int[] {1, 20}, 2);
        assertEquals(-1, bits[0] & bits[1], "a rejected draft: its later row allows everything");
        c.emitted(5);
        c.fill(bits, 0, 2, new int[0], 0);
        assertArrayEquals(new int[] {0x3ff, 1 << 8}, java.util.Arrays.copyOf(bits, 2), "the drafts were rolled back");
    }
}
