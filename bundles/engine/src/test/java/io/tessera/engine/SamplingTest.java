package io.tessera.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class SamplingTest {
    private final Sampling sampling = new Sampling();

    @Test
    void temperatureZeroIsArgmaxWithFirstIndexOnTies() {
        float[] probs = new float[4];
        sampling.distribution(new float[] {1, 3, 3, 2}, 4, 0f, 0, 1f, probs);
        assertArrayEquals(new float[] {0, 1, 0, 0}, probs);
        assertEquals(2, Sampling.argmax(new float[] {1, 2, Float.NaN, 5}, 4), "first NaN wins");
    }

    @Test
    void topKThenTopPKeepTheSmallestSufficientPrefix() {
        float[] logits = {(float) Math.log(0.1), (float) Math.log(0.4), (float) Math.log(0.3), (float) Math.log(0.2)};
        float[] probs = new float[4];
        sampling.distribution(logits, 4, 1f, 3, 1f, probs);              // top-3 of {.4,.3,.2} renormalised
        assertArrayEquals(new float[] {0, 4 / 9f, 3 / 9f, 2 / 9f}, probs, 1e-6f);
        sampling.distribution(logits, 4, 1f, 3, 0.7f, probs);            // .4+.3 = 7/9 >= .7 of the top-3 mass
        assertArrayEquals(new float[] {0, 4 / 7f, 3 / 7f, 0}, probs, 1e-6f);
        sampling.distribution(logits, 4, 1f, 0, 0.35f, probs);           // the top id alone (.4) covers .35
        assertArrayEquals(new float[] {0, 1, 0, 0}, probs, 1e-6f);
    }

    @Test
    void temperatureSharpensAndFlattens() {
        float[] logits = {0, 1};
        float[] probs = new float[2];
        sampling.distribution(logits, 2, 0.5f, 0, 1f, probs);
        assertEquals(1 / (1 + Math.exp(-2)), probs[1], 1e-6);
        sampling.distribution(logits, 2, 2f, 0, 1f, probs);
        assertEquals(1 / (1 + Math.exp(-0.5)), probs[1], 1e-6);
    }

    /**
     * Speculative sampling must leave the output distributed as the target p whatever the draft q: draw a
     * draft from q, accept or resample, and compare the histogram with p by a chi-square test.
     */
    @Test
    void speculativeSamplingKeepsTheTargetDistribution() {
        SplittableRandom random = new SplittableRandom(42);
        int vocab = 6;
        float[] p = {0.30f, 0.05f, 0.25f, 0.10f, 0.20f, 0.10f};
        float[] q = {0.05f, 0.40f, 0.10f, 0.25f, 0.15f, 0.05f};   // a poor draft: many rejections
        int trials = 200_000;
        long[] counts = new long[vocab];
        long accepted = 0;
        float[] work = new float[vocab];
        for (int t = 0; t < trials; t++) {
            int draft = Sampling.draw(q, vocab, random.nextDouble());
            System.arraycopy(p, 0, work, 0, vocab);
            int replacement = Sampling.speculate(work, q, vocab, draft, random.nextDouble(), random.nextDouble());
            counts[replacement < 0 ? draft : replacement]++;
            accepted += replacement < 0 ? 1 : 0;
        }
        double chi2 = 0;
        for (int v = 0; v < vocab; v++) {
            double expected = p[v] * trials;
            chi2 += (counts[v] - expected) * (counts[v] - expected) / expected;
        }
        // 5 degrees of freedom: P(chi2 > 20.5) = 0.001
        assertTrue(chi2 < 20.5, "output is not distributed as p: chi2 = " + chi2);
        double expectedAcceptance = 0;
        for (int v = 0; v < vocab; v++) {
            expectedAcceptance += Math.min(p[v], q[v]);
        }
        assertEquals(expectedAcceptance, accepted / (double) trials, 0.01, "acceptance rate is sum min(p, q)");
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
