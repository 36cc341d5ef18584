package io.tessera.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tessera.api.model.GenerationRequest;
import io.tessera.api.model.OutputConstraint;
import io.tessera.api.model.SamplingParams;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The adaptive draft policy on synthetic costs: a step of n rows over u distinct experts costs
 * {@code base + perRow·n + perExpert·u}, a head call {@code head + headRow·rows}; acceptance is what the
 * verifications reported.
 */
class DraftPolicyTest {
    private static final int HEADS = 3;
    private static final int MAX_ROWS = 64;
    private static final int EXPERTS = 32;
    private static final int PER_TOKEN = 8;

    /** On cheap heads, right drafts are all taken and wrong ones none. */
    @Test
    void onCheapHeadsTheCountFollowsAcceptance() {
        for (double p : new double[] {0.95, 0}) {
            DraftPolicy policy = measured(0.010, 0.0001, 0, 0.0005, 0);
            Sequence s = sequence(true);
            teach(policy, s, p);
            assertEquals(p > 0 ? HEADS : 0, choose(policy, s), "acceptance " + p);
        }
    }

    /** The bench checkpoint's shape: verifying more rows reads the union of their experts. */
    @Test
    void draftsNothingWhenTheExpertUnionCostsMoreThanGoodDraftsGain() {
        DraftPolicy policy = measured(0.03, 0.001, 0.017, 0.06, 0);
        Sequence s = sequence(true);
        teach(policy, s, 0.6);
        assertEquals(0, choose(policy, s));
        DraftPolicy cheapExperts = measured(0.03, 0.001, 0.001, 0.01, 0);
        teach(cheapExperts, s, 0.6);
        assertTrue(choose(cheapExperts, s) > 0);
    }

    /** A step already full of other sequences' rows: a draft adds to a step they all wait for. */
    @Test
    void fewerDraftsWhenTheStepIsFullOfOtherRows() {
        DraftPolicy policy = measured(0.010, 0.002, 0, 0.0005, 0);
        Sequence s = sequence(true);
        teach(policy, s, 0.5);
        int alone = choose(policy, s, 0, 0);
        int crowded = choose(policy, s, 60, 40);
        assertTrue(alone > crowded, alone + " drafts alone, " + crowded + " beside 60 other rows");
    }

    /** A head that sat out has its window to redo: a one-off cost, which must not keep it out for good. */
    @Test
    void aHeadThatSatOutComesBackDespiteItsCatchUp() {
        DraftPolicy policy = measured(0.010, 0.0002, 0, 0.001, 0.0002);
        Sequence s = sequence(true);
        teach(policy, s, 0.9);
        s.draftAllowed = HEADS;
        Arrays.fill(s.catchUp, 128);
        policy.choose(List.of(s), 0, 0);
        assertTrue(s.draftTarget > 0, "a 128-row catch-up (26 ms once) kept every head out");
    }

    /**
     * The embedded model's case: drafts were tried and lost, then only one-row steps come (each a little noisy).
     * The costs of the rare multi-row steps must stay as measured, not drift until drafts look cheap again.
     */
    @Test
    void aLosingCountStaysLeftWhileOnlyOneRowStepsCome() {
        DraftPolicy policy = measured(0.0003, 0.0006, 0, 0.0003, 0.00002);
        Sequence s = sequence(true);
        teach(policy, s, 0.8);
        assertEquals(0, choose(policy, s));
        Random noise = new Random(7);
        for (int i = 0; i < 5000; i++) {
            policy.stepMeasured(1, Double.NaN, nanos(0.0009 * (0.8 + 0.4 * noise.nextDouble())));
            assertEquals(0, choose(policy, s), "drafts chosen again after " + i + " one-row steps");
        }
    }

    /**
     * Other load makes the machine three times slower while only one-row steps come: the multi-row costs measured
     * before must scale with it, not look three times cheaper than one-row steps; and back when it speeds up.
     */
    @Test
    void aMachineThatSlowsDownKeepsItsChoice() {
        for (double p : new double[] {0.8, 0.95}) {
            DraftPolicy policy = measured(0.0003, 0.0006, 0, 0.0003, 0.00002);
            Sequence s = sequence(true);
            teach(policy, s, p);
            int quiet = choose(policy, s);
            for (double slower : new double[] {3, 1}) {
                for (int i = 0; i < 200; i++) {
                    policy.stepMeasured(1, Double.NaN, nanos(slower * 0.0009));
                    assertEquals(quiet, choose(policy, s), "acceptance " + p + ", " + slower + "× slower, step " + i);
                }
            }
        }
    }

    /** One slow call (a collection, a compilation) among a row count's latest times does not move its cost. */
    @Test
    void oneSlowStepDoesNotChangeTheChoice() {
        for (double p : new double[] {0.8, 0.95}) {
            DraftPolicy policy = measured(0.0003, 0.0006, 0, 0.0003, 0.00002);
            Sequence s = sequence(true);
            teach(policy, s, p);
            int before = choose(policy, s);
            for (int rows = 1; rows <= 4; rows++) {
                policy.stepMeasured(rows, Double.NaN, nanos(0.05));
                assertEquals(before, choose(policy, s), "acceptance " + p + ", a 50 ms step of " + rows + " rows");
            }
        }
    }

    @Test
    void aFixedCountIsKept() {
        DraftPolicy policy = measured(0.010, 0.0001, 0, 0.0005, 0);
        Sequence s = sequence(false);
        teach(policy, s, 0);
        assertEquals(HEADS, choose(policy, s));
    }

    @Test
    void expectedTokensFollowTheChain() {
        DraftPolicy policy = new DraftPolicy(HEADS, MAX_ROWS, EXPERTS, PER_TOKEN);
        Sequence s = sequence(true);
        assertEquals(1, policy.expectedTokens(s, 0));
        for (int i = 0; i < 400; i++) {
            policy.verified(s.acceptance, 3, 3);
        }
        assertEquals(4, policy.expectedTokens(s, 3), 0.05);
    }

    /** A policy that has timed steps of 1..8 rows and head calls of 1..8 rows on the given cost. */
    private static DraftPolicy measured(double base, double perRow, double perExpert, double head, double headRow) {
        DraftPolicy policy = new DraftPolicy(HEADS, MAX_ROWS, EXPERTS, PER_TOKEN);
        for (int i = 0; i < 200; i++) {
            int rows = 1 + i % 8;
            double experts = EXPERTS * (1 - Math.pow(1 - PER_TOKEN / (double) EXPERTS, rows));
            policy.stepMeasured(rows, experts, nanos(base + perRow * rows + perExpert * experts));
            for (int j = 0; j < HEADS; j++) {
                policy.headMeasured(j, rows, nanos(head + headRow * rows));
            }
        }
        return policy;
    }

    /** 200 verifications of three drafts, each right with probability {@code p} while the earlier ones were. */
    private static void teach(DraftPolicy policy, Sequence s, double p) {
        Random random = new Random(1);
        for (int i = 0; i < 200; i++) {
            int accepted = 0;
            while (accepted < HEADS && random.nextDouble() < p) {
                accepted++;
            }
            policy.verified(s.acceptance, HEADS, accepted);
        }
    }

    private static int choose(DraftPolicy policy, Sequence s) {
        return choose(policy, s, 0, 0);
    }

    private static int choose(DraftPolicy policy, Sequence s, int otherRows, int otherTokens) {
        s.draftAllowed = HEADS;
        Arrays.fill(s.catchUp, 1);
        policy.choose(List.of(s), otherRows, otherTokens);
        return s.draftTarget;
    }

    private static Sequence sequence(boolean adaptive) {
        GenerationRequest request = new GenerationRequest("m", new int[] {1, 2, 3}, 64, SamplingParams.GREEDY,
                Set.of(), adaptive ? -1 : HEADS, false, null);
        return new Sequence(request, OutputConstraint.NONE, Set.of(), ids -> { }, null, HEADS, adaptive, 1, 16);
    }

    private static long nanos(double seconds) {
        return Math.round(seconds * 1e9);
    }
}
