package io.tessera.engine;

import java.util.Arrays;

/**
 * Applies the grammars of a step's sequences to its wanted logits rows on the backend ({@code maskLogits}),
 * before anything samples or reads them, so greedy, sampled, host-sampled and speculative paths all see the
 * masked distribution. A verifying sequence's rows get the masks after 0, 1, … of its drafts; a draft row the
 * mask after the drafts made so far. One per scheduler; the host mask array is sized once.
 */
final class ConstraintMasks {
    private final int words;
    private final int[] bits;

    ConstraintMasks(int maxRows, int vocab) {
        words = (vocab + 31) >>> 5;
        bits = new int[maxRows * words];
    }

    /**
     * Masks the first {@code m} logits rows, row {@code i} belonging to {@code wantedBy[i]}; {@code drafting}:
     * rows of a draft round (each after the sequence's drafts so far), else a main step.
     */
    void apply(Assembly net, int m, Sequence[] wantedBy, boolean drafting) {
        boolean any = false;
        int offset = 0;
        for (int i = 0; i < m; i++) {
            Sequence s = wantedBy[i];
            offset = i > 0 && wantedBy[i - 1] == s ? offset + 1 : 0;
            if (s.constraint == null || s.evaluation != null) {
                Arrays.fill(bits, i * words, (i + 1) * words, -1);
                continue;
            }
            any = true;
            s.constraint.fill(bits, i * words, words, s.drafts, drafting ? s.draftCount : offset);
        }
        if (any) {
            net.mask(m, bits, words);
        }
    }
}
