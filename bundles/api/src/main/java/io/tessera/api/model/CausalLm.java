package io.tessera.api.model;

import java.util.List;
import org.osgi.annotation.versioning.ProviderType;

/**
 * A model's forward pass on one backend, as a {@link ModelArchitecture} assembled it; the engine schedules it.
 * One caller at a time.
 */
@ProviderType
public interface CausalLm extends AutoCloseable {

    /**
     * Runs the main model over one step's rows and leaves the logits of {@code wanted} rows (indices into the
     * step, in order) for {@link #readLogits} and {@link #sample}, row {@code i} for {@code wanted[i]}.
     */
    void forward(ModelStep step, int[] wanted, RoutingControl routing);

    /** Draft blocks (MTP heads) available; 0 when the model has none. */
    int draftBlocks();

    /**
     * Draft block {@code k} over one step's rows (row {@code r} holds token {@code x_{i+k+1}} at position
     * {@code i}), leaving the logits of {@code wanted} rows as {@link #forward} does.
     */
    void draft(int k, ModelStep step, int[] wanted);

    /**
     * As {@link #draft(int, ModelStep, int[])}; with {@code fullVocabulary}, over the whole vocabulary even when the
     * draft heads have a shortlist vocabulary ({@link DraftBlock#vocabulary}): an evaluation wants the block's own
     * logits. Without, a model with a shortlist may leave logits over the shortlist only: {@link #readLogits} then
     * gives the other ids −∞ and {@link #sample} draws among the shortlist's ids.
     */
    default void draft(int k, ModelStep step, int[] wanted, boolean fullVocabulary) {
        draft(k, step, wanted);
    }

    /**
     * Structured outputs: sets the disallowed ids of the first {@code n} logits rows of the last forward or draft
     * to −∞, before anything reads or samples them; {@code bits} holds {@code words} ints a row, bit {@code j % 32}
     * of word {@code j / 32} set where id {@code j} is allowed.
     */
    void mask(int n, int[] bits, int words);

    /** Copies logits row {@code i} of the last forward or draft to the host. */
    void readLogits(int i, float[] row);

    /**
     * Draws one token below {@code vocab} for each of the first {@code n} logits rows of the last
     * {@link #forward} with the host's uniform numbers (temperature 0: argmax), and waits for the ids.
     */
    void sample(int n, int vocab, float[] temperature, int[] topK, float[] topP, float[] uniform, int[] out);

    /**
     * Hot swap: copies state the model keeps between steps outside the KV pool (e.g. the draft heads' recent
     * hidden states) to {@code target}, an assembly of the same model on another backend.
     */
    void copyStateTo(CausalLm target);

    /** The attention of each main layer, then of each draft block, for sizing the KV pool. */
    List<Attention> attentions();

    @Override
    void close();
}
