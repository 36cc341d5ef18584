package io.tessera.api.model;

import java.util.List;
import java.util.concurrent.CompletionStage;
import org.osgi.annotation.versioning.ProviderType;

/**
 * Runs generations on loaded models. Requests are batched across sequences by the engine's scheduler.
 * Thread-safe; listeners are called from engine threads and must not block.
 */
@ProviderType
public interface Generator {

    /**
     * Queues a generation.
     *
     * @throws IllegalArgumentException naming the bad request field (unknown model, prompt too long, ...)
     * @throws IllegalStateException    when the queue is full (back-pressure: try again later), or the model cannot
     *                                  take requests now ({@link ModelInfo.State#FAILED}: its info says why)
     */
    Generation submit(GenerationRequest request, GenerationListener listener);

    /**
     * As {@link #submit(GenerationRequest, GenerationListener)}, with the output held to {@code constraint}: its
     * grammar masks every sampled, greedy or drafted token, and its logit bias is added before sampling.
     *
     * @throws IllegalArgumentException as the plain submit, or for a logit bias id outside the vocabulary
     */
    Generation submit(GenerationRequest request, OutputConstraint constraint, GenerationListener listener);

    /**
     * Scores a token sequence: the logits at every position, in order ({@code logits} at position {@code i}
     * predict token {@code i + 1}), as the vocabulary-sized row the lm_head gives. The array passed to the
     * consumer is reused between calls: copy what you keep.
     *
     * @throws IllegalArgumentException naming the bad field (unknown model, empty or too long input)
     */
    CompletionStage<Void> evaluate(String model, int[] tokens, LogitsConsumer consumer);

    /**
     * Like {@link #evaluate(String, int[], LogitsConsumer)} for MTP block {@code head}: the logits at position
     * {@code i} are block {@code head}'s, fed {@code H_i} and token {@code i + head + 1}, predicting token
     * {@code i + head + 2}; positions {@code 0 .. tokens.length − head − 2}. {@code head = -1} is the main model.
     *
     * @throws IllegalArgumentException naming the bad field (unknown model or head, empty or too long input)
     */
    CompletionStage<Void> evaluate(String model, int[] tokens, int head, LogitsConsumer consumer);

    /** What each loaded model's scheduler is doing (queue, running sequences, KV use, throughput, expert load). */
    default List<ModelMetrics> metrics() {
        return List.of();
    }

    /** Receives the logits of one position. */
    @FunctionalInterface
    interface LogitsConsumer {
        void accept(int position, float[] logits);
    }
}
