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
    }

    /** lm_head over the {@code wanted} rows (indices into the step) of a final-normed {@code [R, hidden]} buffer. */
    public void logits(Buffer finalNormed, int[] wanted) {
        backend.write(outputRows, 0, wanted, 0, wanted.length);
        backend.gatherRows(finalNormed, outputRows, wanted.length, selected);
        backend.matmul(selected, weight, wanted.length, logits);
    }

    /** Copies logits row {@code i} of the last {@link #logits} to the host. */
    public void readLogits(int i, float[] row) {
        backend.read(logits, (long) i * vocab, row, 0, vocab);
    }

    /** Draws one id per row of the first {@code n} logits rows and waits for them. */
    public void sample(int n, int vocabLimit, float[] temperature, int[] topK, float[] topP, float[] uniform,
                       int[] out) {
        backend.sample(logits, n, vocabLimit, temperature, topK, topP, uniform, sampled);
        backend.read(sampled, 0, out, 0, n);
    }
}
