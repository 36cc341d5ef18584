package io.tessera.engine;

/**
 * How often each head's draft is accepted given that every earlier draft of the step was (the chain's conditional
 * acceptance), from counts that decay, so that recent verifications weigh most.
 */
final class Acceptance {
    private final double[] tries;
    private final double[] hits;
    private final double decay;

    /** @param decay the weight left to older counts at each {@link #verified} or {@link #age} */
    Acceptance(int heads, double decay) {
        tries = new double[heads];
        hits = new double[heads];
        this.decay = decay;
    }

    /** One verification of {@code drafts} drafts that accepted the first {@code accepted}. */
    void verified(int drafts, int accepted) {
        age();
        for (int j = 0; j < drafts && j <= accepted; j++) {
            tries[j]++;
            hits[j] += j < accepted ? 1 : 0;
        }
    }

    /** A step without drafts: what was counted before weighs less. */
    void age() {
        for (int j = 0; j < tries.length; j++) {
            tries[j] *= decay;
            hits[j] *= decay;
        }
    }

    /** Head {@code j}'s rate with a uniform prior (one hit in two tries) when nothing is known. */
    double rate(int j) {
        return (hits[j] + 1) / (tries[j] + 2);
    }

    /** Head {@code j}'s rate, its counts added to {@code weight} tries at the rate {@code prior}. */
    double rate(int j, double prior, double weight) {
        return (hits[j] + weight * prior) / (tries[j] + weight);
    }
}
