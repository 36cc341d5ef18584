package io.tessera.api.model;

/**
 * Runs generations on loaded models. Requests are batched across sequences by the engine's scheduler.
 * Thread-safe; listeners are called from engine threads and must not block.
 */
public interface Generator {

    /**
     * Queues a generation.
     *
     * @throws IllegalArgumentException naming the bad request field (unknown model, prompt too long, ...)
     * @throws IllegalStateException    when the queue is full (back-pressure)
     */
    Generation submit(GenerationRequest request, GenerationListener listener);
}
