package io.tessera.shell;

import java.util.StringJoiner;

/** The chosen-k histogram of speculative decoding as one line: how many decode steps verified k drafts. */
final class DraftHistogram {
    private DraftHistogram() {
    }

    /** E.g. {@code "steps with 0/1/2/3 drafts: 4/0/7/30"}; counts of several runs may be summed first. */
    static String line(long[] steps) {
        StringJoiner ks = new StringJoiner("/");
        StringJoiner counts = new StringJoiner("/");
        for (int k = 0; k < steps.length; k++) {
            ks.add(String.valueOf(k));
            counts.add(String.valueOf(steps[k]));
        }
        return "steps with " + ks + " drafts: " + counts;
    }
}
