package io.tessera.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class SamplingTest {
    private final Sampling sampling = new Sampling();

    @Test
    void temperatureZeroIsArgmaxWithFirstIndexOnTies() {
        assertEquals(1, sampling.sample(new float[] {1, 3, 3, 2}, 4, 0f, 0, 1f, 0.99f));
        assertEquals(2, Sampling.argmax(new float[] {1, 2, Float.NaN, 5}, 4), "first NaN wins");
    }

    /** p = {.1, .4, .3, .2}: by descending p the ids are 1, 2, 3, 0, and u walks their cumulative mass. */
    @Test
    void topKThenTopPKeepTheSmallestSufficientPrefixInDescendingOrder() {
        float[] logits = {(float) Math.log(0.1), (float) Math.log(0.4), (float) Math.log(0.3), (float) Math.log(0.2)};
        assertEquals(1, sampling.sample(logits, 4, 1f, 0, 1f, 0.39f));
        assertEquals(2, sampling.sample(logits, 4, 1f, 0, 1f, 0.41f));
        assertEquals(3, sampling.sample(logits, 4, 1f, 0, 1f, 0.71f));
        assertEquals(0, sampling.sample(logits, 4, 1f, 0, 1f, 0.91f));
        assertEquals(3, sampling.sample(logits, 4, 1f, 3, 1f, 0.99f), "top-3 of {.4,.3,.2}: 0 never");
        assertEquals(3, sampling.sample(logits, 4, 1f, 3, 1f, 7.1f / 9), "top-3 renormalised: .4+.3 = 7/9");
        assertEquals(2, sampling.sample(logits, 4, 1f, 3, 0.7f, 0.99f), ".4+.3 = 7/9 >= .7 of the top-3 mass");
        assertEquals(1, sampling.sample(logits, 4, 1f, 0, 0.35f, 0.99f), "the top id alone (.4) covers .35");
    }

    @Test
    void temperatureSharpensAndFlattens() {
        float[] logits = {0, 1};                 // p(1) = 1/(1+e^-2) = .881 at 0.5, 1/(1+e^-.5) = .622 at 2
        assertEquals(1, sampling.sample(logits, 2, 0.5f, 0, 1f, 0.87f));
        assertEquals(0, sampling.sample(logits, 2, 0.5f, 0, 1f, 0.89f));
        assertEquals(1, sampling.sample(logits, 2, 2f, 0, 1f, 0.61f));
        assertEquals(0, sampling.sample(logits, 2, 2f, 0, 1f, 0.63f));
    }

    @Test
    void uniformNumbersDependOnSeedAndPositionOnly() {
        assertEquals(Sampling.uniform(11, 5), Sampling.uniform(11, 5));
        assertNotEquals(Sampling.uniform(11, 5), Sampling.uniform(11, 6));
        assertNotEquals(Sampling.uniform(11, 5), Sampling.uniform(12, 5));
        long[] counts = new long[10];
        for (int position = 0; position < 100_000; position++) {
            float u = Sampling.uniform(42, position);
            assertTrue(u >= 0 && u < 1);
            counts[(int) (u * 10)]++;
        }
        double chi2 = 0;
        for (long c : counts) {
            chi2 += (c - 10_000.0) * (c - 10_000.0) / 10_000.0;
        }
        assertTrue(chi2 < 27.9, "not uniform over positions: chi2 = " + chi2);   // 9 dof: P(> 27.9) = 0.001
    }

    /**
     * Verification by the position's uniform number (SpeculativeDecoding.verify): the draft, drawn from q with u,
     * stands when p's draw with the same u is the draft, and the token emitted is always p's draw, so the output is
     * distributed as p whatever q (chi-square), and the draft stands with the probability that p's and q's draws
     * coincide: the overlap of their intervals of [0, 1) in descending order.
     */
    @Test
    void draftsVerifiedByThePositionsUniformKeepTheTargetDistribution() {
        float[] p = {0.30f, 0.05f, 0.25f, 0.10f, 0.20f, 0.10f};
        float[] q = {0.05f, 0.40f, 0.10f, 0.25f, 0.15f, 0.05f};   // a poor draft: many rejections
        float[] lp = new float[p.length];
        float[] lq = new float[q.length];
        for (int v = 0; v < p.length; v++) {
            lp[v] = (float) Math.log(p[v]);
            lq[v] = (float) Math.log(q[v]);
        }
        int trials = 200_000;
        long[] counts = new long[p.length];
        long accepted = 0;
        for (int t = 0; t < trials; t++) {
            float u = Sampling.uniform(7, t);
            int draft = sampling.sample(lq, q.length, 1f, 0, 1f, u);
            int token = sampling.sample(lp, p.length, 1f, 0, 1f, u);
            counts[token]++;
            accepted += draft == token ? 1 : 0;
        }
        double chi2 = 0;
        for (int v = 0; v < p.length; v++) {
            double expected = p[v] * trials;
            chi2 += (counts[v] - expected) * (counts[v] - expected) / expected;
        }
        assertTrue(chi2 < 20.5, "output is not distributed as p: chi2 = " + chi2);   // 5 dof: P(> 20.5) = 0.001
        // descending: p 0 [0,.3) 2 [.3,.55) 4 [.55,.75) 3 [.75,.85) 5 [.85,.95) 1 [.95,1);
        // q 1 [0,.4) 3 [.4,.65) 4 [.65,.8) 2 [.8,.9) 0 [.9,.95) 5 [.95,1): they share 4's [.65,.75) alone
        assertEquals(0.10, accepted / (double) trials, 0.01, "acceptance is the draws' overlap");
    }

    @Test
    void logprobIsTheLogSoftmaxWithTheMostLikelyIdsFirst() {
        float[] p = {0.1f, 0.4f, 0.3f, 0.2f};
        float[] logits = new float[4];
        for (int i = 0; i < 4; i++) {
            logits[i] = (float) Math.log(p[i]) + 5;   // a shift changes nothing
        }
        var lp = Sampling.logprob(logits, 4, 2, 3);
        assertEquals(Math.log(0.3), lp.logprob(), 1e-6);
        assertArrayEquals(new int[] {1, 2, 3}, lp.topIds());
        assertArrayEquals(new float[] {(float) Math.log(0.4), (float) Math.log(0.3), (float) Math.log(0.2)},
                lp.topLogprobs(), 1e-6f);
        assertEquals(0, Sampling.logprob(logits, 4, 0, 0).topIds().length);
        assertArrayEquals(new int[] {0, 1}, Sampling.logprob(new float[] {1, 1, 1}, 3, 0, 2).topIds(), "ties: lower id");
    }

    @Test
    void penaltiesFollowOpenAisFormula() {
        float[] logits = {1, 1, 1, 1};
        Sampling.penalize(logits, new int[] {0, 1, 3, 0}, 0.5f, 0.25f);
        assertArrayEquals(new float[] {1, 1 - 0.5f - 0.25f, 1 - 1.5f - 0.25f, 1}, logits);
    }
}
