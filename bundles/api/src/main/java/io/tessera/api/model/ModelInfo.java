package io.tessera.api.model;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * A loaded model as operators see it.
 *
 * @param name        model name
 * @param directory   checkpoint directory
 * @param state       ready, waiting (for a component) or failed (a step hit a condition the model cannot recover
 *                    from, e.g. out of memory: it serves nothing until it is unloaded and loaded again)
 * @param backend     backend in use
 * @param components  per layer, the component serving it, e.g. {@code "3: attention sliding-window, moe 8/64"}
 * @param waitingFor  service filters the model is waiting for, e.g. {@code "(attention.kind=sliding-window)"};
 *                    when failed, the reason
 * @param memory      bytes by kind: "weights" (the checkpoint's tensors, memory-mapped), "kv" (the engine's KV
 *                    pool), "backend" (everything the backend holds: uploaded weights, KV, scratch)
 */
public record ModelInfo(String name, Path directory, State state, String backend, List<String> components,
                        List<String> waitingFor, Map<String, Long> memory) {
    public enum State { READY, WAITING, FAILED }
}
