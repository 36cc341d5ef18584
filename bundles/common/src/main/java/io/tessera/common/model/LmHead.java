package io.tessera.common.model;

import io.tessera.api.DType;
import io.tessera.api.checkpoint.Checkpoint;
import io.tessera.api.checkpoint.CheckpointException;
import io.tessera.api.checkpoint.ModelConfig;
import io.tessera.api.kernel.Buffer;
import io.tessera.api.kernel.KernelBackend;
import io.tessera.api.kernel.Weight;
import io.tessera.common.Resources;

/**
 * {@code logits = lm_head · hN} for the rows whose logits a step wants, and sampling from them. The lm_head is
 * {@code lm_head.weight}, or the embedding when the config ties them ({@code tie_word_embeddings}).
 */
public final class LmHead {
    private final KernelBackend backend;
    private final int vocab;
    private final Weight weight;
    private final Buffer outputRows;  // I32 [maxRows, 1]: rows whose logits are wanted
    private final Buffer selected;    // final-normed hidden states of those rows [maxRows, hidden]
    private final Buffer logits;      // [maxRows, vocab]
    private final Buffer sampled;     // I32 [maxRows, 1]
    private final Buffer allowed;     // I32 [maxRows, ceil(vocab / 32)]: grammar masks
    private final int maxRows;
    private int[] shortlist;          // the drafts' vocabulary, or null: every id
    private Buffer shortlistIds;      // I32 [shortlist, 1]
    private Buffer shortlistLogits;   // [maxRows, shortlist]
    private float[] shortlistRow;
    private boolean shortlisted;      // the last logits are the shortlist's (a draft), not the vocabulary's

    public LmHead(KernelBackend backend, Checkpoint checkpoint, Weight embedTokens, int maxRows, Resources owned)
            throws CheckpointException {
        ModelConfig config = checkpoint.config();
        this.backend = backend;
        this.vocab = config.vocabSize();
        weight = config.tieWordEmbeddings() ? embedTokens
                : owned.add(backend.weight(checkpoint.tensor("lm_head.weight")));
        outputRows = owned.add(backend.allocate(DType.I32, maxRows, 1));
        selected = owned.add(backend.allocate(DType.F32, maxRows, config.hiddenSize()));
        logits = owned.add(backend.allocate(DType.F32, maxRows, vocab));
        sampled = owned.add(backend.allocate(DType.I32, maxRows, 1));
        allowed = owned.add(backend.allocate(DType.I32, maxRows, (vocab + 31) / 32));
        this.maxRows = maxRows;
    }

    /**
     * A shortlist vocabulary (the draft heads' {@code DraftBlock#vocabulary}) for {@link #shortlistLogits}; its
     * buffers are owned by {@code owned}. Called once, before any step.
     */
    public void shortlist(int[] ids, Resources owned) {
        shortlist = ids.clone();
        shortlistIds = owned.add(backend.allocate(DType.I32, shortlist.length, 1));
        shortlistLogits = owned.add(backend.allocate(DType.F32, maxRows, shortlist.length));
        shortlistRow = new float[shortlist.length];
        backend.write(shortlistIds, 0, shortlist, 0, shortlist.length);
    }

    /** Whether a shortlist was set. */
    public boolean hasShortlist() {
        return shortlist != null;
    }

    /** lm_head over the {@code wanted} rows (indices into the step) of a final-normed {@code [R, hidden]} buffer. */
    public void logits(Buffer finalNormed, int[] wanted) {
        backend.write(outputRows, 0, wanted, 0, wanted.length);
        backend.gatherRows(finalNormed, outputRows, wanted.length, selected);
        backend.matmul(selected, weight, wanted.length, logits);
        shortlisted = false;
    }

    /** lm_head over the shortlist's rows only ({@code matmulRows}), for the {@code wanted} rows. */
    public void shortlistLogits(Buffer finalNormed, int[] wanted) {
        backend.write(outputRows, 0, wanted, 0, wanted.length);
        backend.gatherRows(finalNormed, outputRows, wanted.length, selected);
        backend.matmulRows(selected, weight, shortlistIds, wanted.length, shortlistLogits);
        shortlisted = true;
    }

    /**
     * Copies logits row {@code i} of the last {@link #logits} to the host; after {@link #shortlistLogits}, ids
     * outside the shortlist get −∞ (probability 0: the draft distribution is the shortlist's).
     */
    public void readLogits(int i, float[] row) {
        if (!shortlisted) {
            backend.read(logits, (long) i * vocab, row, 0, vocab);
            return;
        }
        backend.read(shortlistLogits, (long) i * shortlist.length, shortlistRow, 0, shortlist.length);
        java.util.Arrays.fill(row, 0, vocab, Float.NEGATIVE_INFINITY);
        for (int j = 0; j < shortlist.length; j++) {
            row[shortlist[j]] = shortlistRow[j];
        }
    }

    /** Sets the disallowed ids of the first {@code n} logits rows to −∞ ({@code bits}: {@code words} ints a row). */
    public void mask(int n, int[] bits, int words) {
        backend.write(allowed, 0, bits, 0, n * words);
        backend.maskLogits(logits, allowed, n);
    }

    /** Draws one id per row of the first {@code n} logits rows and waits for them. */
    public void sample(int n, int vocabLimit, float[] temperature, int[] topK, float[] topP, float[] uniform,
                       int[] out) {
        if (!shortlisted) {
            backend.sample(logits, n, vocabLimit, temperature, topK, topP, uniform, sampled);
            backend.read(sampled, 0, out, 0, n);
            return;
        }
        backend.sample(shortlistLogits, n, shortlist.length, temperature, topK, topP, uniform, sampled);
        backend.read(sampled, 0, out, 0, n);
        for (int i = 0; i < n; i++) {
            out[i] = shortlist[out[i]];
        }
    }
}
