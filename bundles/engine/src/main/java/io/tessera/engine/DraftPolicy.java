package io.tessera.engine;

import java.util.List;

/**
 * How many drafts each sequence gets in the next step: the k = 0..heads that maximizes the expected tokens per
 * second of that step, for the whole batch, from measured costs (EAGLE-2 / SpecDec++ style adaptive length).
 *
 * <ul>
 * <li>A main step costs {@code c0 + c1·rows + c2·distinct experts} (verifying rows reads the union of
 * their experts); the coefficients are fitted to the steps that only decode and verify (prefill chunks cost
 * differently and would bend the line where drafts are decided), and the distinct experts of a step of n rows
 * are what recent steps of n rows routed to ({@link #stepMeasured}).
 * <li>A head's call costs {@code h0 + h1·rows}, fitted to its calls: drafting once costs its weights (and the
 * lm_head) whatever the batch, and more rows add compute.
 * <li>Draft j of a sequence is accepted, given that the earlier ones were, at the sequence's recent rate, drawn
 * towards the model's rate over all sequences; so k drafts are expected to give {@code 1 + Σ_j Π_{i≤j} a_i}
 * tokens.
 * </ul>
 * Costs are in units of the step timed most often, so that other load on the machine, which slows everything alike,
 * does not make the configurations timed before it look cheap ({@link #level}). A head not yet measured looks free
 * and is tried; a configuration that does not pay is left once measured.
 * When the step is already full of other sequences' rows, a draft adds rows (and experts) to a step that every
 * sequence waits for, so it must pay for itself against their tokens too. Scheduler thread only.
 */
final class DraftPolicy {
    /** How many tries at the model's rate a sequence's own counts are blended with. */
    private static final double PRIOR_TRIES = 4;
    /** Per decode step, the weight left to a sequence's older verifications. */
    static final double SEQUENCE_DECAY = 0.9;
    /** Per verification, the weight left to the model's older verifications. */
    private static final double MODEL_DECAY = 0.995;
    /** Steps over which a head's catch-up after sitting out is weighed ({@link #rowsPerStep}). */
    private static final int CATCH_UP_STEPS = 16;

    private final int heads;
    private final int maxRows;
    private final LinearCost step;
    private final LinearCost[] head;
    private final double[] distinct;       // by rows: distinct experts per MoE layer recent steps routed to
    private final Acceptance model;
    private final double[] stepFeatures = new double[3];
    private final double[] headFeatures = new double[2];
    /**
     * Costs are kept in units of the reference step: the row count timed most often (a plain one-row decode step
     * of one sequence, or a batch's usual size), whose latest raw times set the machine's present level. Every
     * measurement is divided by the level at its time, so that configurations timed at different times compare as
     * if timed together: a step of four rows timed while the machine was quiet is not made cheap by the one-row
     * steps timed since under other load. The level scales every cost alike, so it never changes a choice itself.
     */
    private final long[] stepsByRows;
    private final double[] reference = new double[16];   // the reference row count's latest raw seconds
    private int referenceRows = 1;
    private int referenceSeen;

    /**
     * @param experts routed experts per MoE layer (0 for a dense model), {@code perToken} chosen per token
     */
    DraftPolicy(int heads, int maxRows, int experts, int perToken) {
        this.heads = heads;
        this.maxRows = maxRows;
        step = new LinearCost(3, maxRows);
        head = new LinearCost[heads];
        for (int j = 0; j < heads; j++) {
            head[j] = new LinearCost(2, maxRows);
        }
        stepsByRows = new long[maxRows + 1];
        distinct = new double[maxRows + 1];
        for (int n = 1; n <= maxRows; n++) {   // until measured: tokens routed independently and uniformly
            distinct[n] = experts == 0 ? 0 : experts * (1 - Math.pow(1 - perToken / (double) experts, n));
        }
        model = new Acceptance(heads, MODEL_DECAY);
    }

    /** A main step of {@code rows} rows took {@code nanos}; {@code experts}: distinct per MoE layer, NaN unknown. */
    void stepMeasured(int rows, double experts, long nanos) {
        int n = Math.min(rows, maxRows);
        if (!Double.isNaN(experts)) {
            distinct[n] += 0.2 * (experts - distinct[n]);
        }
        if (++stepsByRows[n] > stepsByRows[referenceRows]) {
            changeReference(n);
        }
        double[] x = stepFeatures(n, Double.isNaN(experts) ? distinct[n] : experts);
        if (n == referenceRows) {     // the unit itself: its time goes into the level
            reference[referenceSeen++ % reference.length] = nanos / 1e9;
            step.observe(x, 1);
        } else {
            step.observe(x, nanos / 1e9 / level());
        }
    }

    /** The reference step's present time in seconds: the median of its latest times (1 until it is timed). */
    private double level() {
        int n = Math.min(referenceSeen, reference.length);
        return n == 0 ? 1 : Math.max(1e-9, LinearCost.median(reference.clone(), n));
    }

    /** Another row count is now timed most often: costs move to its units, its level to its kept times. */
    private void changeReference(int rows) {
        double before = level();
        double inUnits = step.median(rows);       // its kept times in the old units
        referenceRows = rows;
        referenceSeen = 0;
        if (Double.isNaN(inUnits) || inUnits <= 0) {
            return;
        }
        step.scale(1 / inUnits);
        for (LinearCost h : head) {
            h.scale(1 / inUnits);
        }
        reference[referenceSeen++] = before * inUnits;
    }

    /** A call of head {@code j} over {@code rows} rows took {@code nanos}. */
    void headMeasured(int j, int rows, long nanos) {
        head[j].observe(headFeatures(rows), nanos / 1e9 / level());
    }

    /** A verification of {@code drafts} drafts of a sequence accepted {@code accepted} of them. */
    void verified(Acceptance sequence, int drafts, int accepted) {
        sequence.verified(drafts, accepted);
        model.verified(drafts, accepted);
    }

    /**
     * Sets {@code draftTarget} of every sequence in {@code drafting}: its fixed count if it has one, else the
     * count that maximizes the batch's expected tokens per second. {@code draftAllowed} bounds it and
     * {@code catchUp[j]} holds the rows head j would run for the sequence; {@code otherRows} and
     * {@code otherTokens} are what the rest of the next step adds.
     */
    void choose(List<Sequence> drafting, int otherRows, int otherTokens) {
        for (Sequence s : drafting) {
            s.draftTarget = s.adaptive ? 0 : s.draftAllowed;
        }
        for (int pass = 0; pass < 2; pass++) {
            for (Sequence s : drafting) {
                if (!s.adaptive) {
                    continue;
                }
                int best = 0;
                double bestRate = -1;
                for (int k = 0; k <= s.draftAllowed; k++) {
                    s.draftTarget = k;
                    double rate = rate(drafting, otherRows, otherTokens);
                    if (rate > bestRate * (1 + 1e-9)) {
                        best = k;
                        bestRate = rate;
                    }
                }
                s.draftTarget = best;
            }
        }
    }

    /** Expected tokens per second of the next step with every sequence's current {@code draftTarget}. */
    private double rate(List<Sequence> drafting, int otherRows, int otherTokens) {
        int rows = otherRows;
        double tokens = otherTokens;
        for (Sequence s : drafting) {
            rows += 1 + s.draftTarget;
            tokens += expectedTokens(s, s.draftTarget);
        }
        double seconds = step.predict(stepFeatures(Math.min(rows, maxRows), distinct[Math.min(rows, maxRows)]));
        for (int j = 0; j < heads; j++) {
            double headRows = 0;
            for (Sequence s : drafting) {
                headRows += s.draftTarget > j ? rowsPerStep(s.catchUp[j], s.draftTarget) : 0;
            }
            seconds += headRows == 0 ? 0 : head[j].predict(headFeatures(headRows));
        }
        return tokens / Math.max(seconds, 1e-9);
    }

    /**
     * The rows a head runs per step for a sequence drafting k: in a steady run the positions new since its last
     * round (at most k + 1), plus, for a head that sat out and has {@code catchUp} rows to redo, that one-off cost
     * spread over the next {@value #CATCH_UP_STEPS} steps: judged on this step alone, a head that sat out would
     * never look worth its catch-up and could never come back.
     */
    private static double rowsPerStep(int catchUp, int k) {
        int steady = Math.min(catchUp, k + 1);
        return steady + (catchUp - steady) / (double) CATCH_UP_STEPS;
    }

    /** {@code 1 + Σ_{j<k} Π_{i≤j} a_i}: the bonus token, then each draft while every earlier one stood. */
    double expectedTokens(Sequence s, int k) {
        double tokens = 1;
        double all = 1;
        for (int j = 0; j < k; j++) {
            all *= s.acceptance.rate(j, model.rate(j), PRIOR_TRIES);
            tokens += all;
        }
        return tokens;
    }

    private double[] stepFeatures(int rows, double experts) {
        stepFeatures[0] = 1;
        stepFeatures[1] = rows;
        stepFeatures[2] = experts;
        return stepFeatures;
    }

    private double[] headFeatures(double rows) {
        headFeatures[0] = 1;
        headFeatures[1] = rows;
        return headFeatures;
    }
}
