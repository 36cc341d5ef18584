package io.tessera.engine;

import io.tessera.api.kernel.KvCache;
import io.tessera.api.kernel.Rows;
import io.tessera.api.model.Attention;
import io.tessera.api.model.CausalLm;
import io.tessera.api.model.ModelStep;
import io.tessera.api.model.RoutingControl;

/**
 * A model's forward pass as its architecture assembled it ({@link CausalLm}), run on the engine's steps and KV
 * pool: each call hands the architecture the step's rows with the pool's per-layer row descriptors and caches.
 */
final class Assembly implements AutoCloseable {
    private final CausalLm lm;
    private float[] greedy = new float[0];   // temperature and uniform numbers of argmax(): zeros
    private int[] noTopK = new int[0];       // zeros: no top-k
    private float[] noTopP = new float[0];   // ones: no top-p

    Assembly(CausalLm lm) {
        this.lm = lm;
    }

    /** The step's rows with the pool's per-layer descriptors; the descriptors are freed when the step ends. */
    private record PoolStep(Step step, KvPool kv, KvPool.StepRows rows) implements ModelStep, AutoCloseable {
        @Override
        public int count() {
            return step.count();
        }

        @Override
        public int[] tokens() {
            return step.tokens();
        }

        @Override
        public int[] positions() {
            return step.positions();
        }

        @Override
        public int[] slots() {
            return step.slots();
        }

        @Override
        public Rows rows(int layer) {
            return rows.of(layer);
        }

        @Override
        public KvCache cache(int layer) {
            return kv.cache(layer);
        }

        @Override
        public void close() {
            rows.close();
        }
    }

    /** The main model over one step; logits of {@code wanted} rows stay for {@link #readLogits} / {@link #sample}. */
    void forward(Step step, KvPool kv, int[] wanted, RoutingControl routing) {
        try (PoolStep rows = new PoolStep(step, kv, kv.rows(step))) {
            lm.forward(rows, wanted, routing);
        }
    }

    /**
     * Draft block {@code k} over one step: over the heads' shortlist when they have one, unless
     * {@code fullVocabulary} (an evaluation wants the block's own logits).
     */
    void draft(int k, Step step, KvPool kv, int[] wanted, boolean fullVocabulary) {
        try (PoolStep rows = new PoolStep(step, kv, kv.rows(step))) {
            lm.draft(k, rows, wanted, fullVocabulary);
        }
    }

    /** Sets the disallowed ids of the first {@code n} logits rows to −∞ ({@code bits}: {@code words} ints a row). */
    void mask(int n, int[] bits, int words) {
        lm.mask(n, bits, words);
    }

    int draftBlocks() {
        return lm.draftBlocks();
    }

    void readLogits(int i, float[] row) {
        lm.readLogits(i, row);
    }

    void sample(int n, int vocab, float[] temperature, int[] topK, float[] topP, float[] uniform, int[] out) {
        lm.sample(n, vocab, temperature, topK, topP, uniform, out);
    }

    /** {@link #sample} at temperature 0: each of the first {@code n} logits rows' argmax below {@code vocab}. */
    void argmax(int n, int vocab, int[] out) {
        if (greedy.length < n) {
            greedy = new float[n];
            noTopK = new int[n];
            noTopP = new float[n];
            java.util.Arrays.fill(noTopP, 1f);
        }
        lm.sample(n, vocab, greedy, noTopK, noTopP, greedy, out);
    }

    /** Hot swap: the state outside the KV pool moves to the same model's assembly on another backend. */
    void copyStateTo(Assembly target) {
        lm.copyStateTo(target.lm);
    }

    Attention[] attentions() {
        return lm.attentions().toArray(Attention[]::new);
    }

    @Override
    public void close() {
        lm.close();
    }
}
