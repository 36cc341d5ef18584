package io.tessera.api.kernel;

import java.util.List;

/**
 * The routed experts of one MoE layer, expert {@code e} being {@code gate.get(e)}, {@code up.get(e)}
 * ({@code [intermediate, hidden]}) and {@code down.get(e)} ({@code [hidden, intermediate]}).
 */
public record ExpertWeights(List<Weight> gate, List<Weight> up, List<Weight> down) {
    public ExpertWeights {
        if (gate.size() != up.size() || gate.size() != down.size()) {
            throw new IllegalArgumentException("expert lists differ in length");
        }
        gate = List.copyOf(gate);
        up = List.copyOf(up);
        down = List.copyOf(down);
    }

    public int count() {
        return gate.size();
    }
}
