package io.tessera.moe;

import java.util.Arrays;
import io.tessera.api.DType;
import io.tessera.api.Tensor;
import io.tessera.api.checkpoint.Checkpoint;
import io.tessera.api.checkpoint.CheckpointException;
import io.tessera.api.checkpoint.LayerSpec;
import io.tessera.api.checkpoint.ModelConfig;
import io.tessera.api.kernel.Buffer;
import io.tessera.api.kernel.ExpertWeights;
import io.tessera.api.kernel.KernelBackend;
import io.tessera.api.kernel.Rows;
import io.tessera.api.kernel.Weight;
import io.tessera.api.model.ExpertRouter;
import io.tessera.api.model.FeedForward;
import io.tessera.api.model.RoutingControl;
import io.tessera.common.Resources;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * A routed-expert MLP (spec §3, MoE routing): router logits in F32, expert choice by the {@link ExpertRouter}
 * (or replayed from a routing record), then {@code Σ w_e · Expert_e(m)} over the chosen SwiGLU experts.
 */
final class MoeMlp implements FeedForward {
    private final KernelBackend backend;
    private final ModelConfig config;
    private final Supplier<ExpertRouter> router;   // looked up per step: the best-ranked of its kind now, or null
    // the last one used: the last router of the kind leaving serves the step in flight, until the engine frees this
    private ExpertRouter lastRouter;
    private final int layer;
    private final Resources owned = new Resources();
    private final Weight gate;
    private final Weight bias;
    private final ExpertWeights experts;
    private final Buffer logits;
    private final Buffer ids;
    private final Buffer weights;
    private final int[] hostIds;

    MoeMlp(KernelBackend backend, Checkpoint checkpoint, String prefix, LayerSpec spec,
           Supplier<ExpertRouter> router, int maxRows) throws CheckpointException {
        this.backend = backend;
        this.config = checkpoint.config();
        this.router = router;
        this.lastRouter = router.get();
        this.layer = spec.index();
        int k = config.expertsPerToken();
        try {
            gate = owned.add(backend.weight(checkpoint.tensor(prefix + "gate.weight")));
            Optional<Tensor> correction = checkpoint.find(prefix + "gate.e_score_correction_bias");
            bias = correction.isPresent() ? owned.add(backend.weight(correction.get())) : null;
            experts = expertWeights(backend, checkpoint, prefix + "experts.");
            logits = owned.add(backend.allocate(DType.F32, maxRows, config.routedExperts()));
            ids = owned.add(backend.allocate(DType.I32, maxRows, k));
            weights = owned.add(backend.allocate(DType.F32, maxRows, k));
        } catch (CheckpointException | RuntimeException e) {
            owned.close();
            throw e;
        }
        hostIds = new int[maxRows * k];
    }

    /** Per-expert hub tensors {@code experts.{e}.gate_proj.weight}, or the stacked tensors transformers saves. */
    private ExpertWeights expertWeights(KernelBackend backend, Checkpoint checkpoint, String prefix)
            throws CheckpointException {
        int count = config.routedExperts();
        List<Weight> g = new ArrayList<>(count);
        List<Weight> u = new ArrayList<>(count);
        List<Weight> d = new ArrayList<>(count);
        Optional<Tensor> stackedGateUp = checkpoint.find(prefix + "gate_up_proj");
        for (int e = 0; e < count; e++) {
            if (stackedGateUp.isPresent()) {
                Tensor gateUp = stackedGateUp.get();
                Tensor down = checkpoint.tensor(prefix + "down_proj");
                int half = gateUp.dim(1) / 2;
                g.add(owned.add(backend.weight(slice(gateUp, e, 0, half))));
                u.add(owned.add(backend.weight(slice(gateUp, e, half, half))));
                d.add(owned.add(backend.weight(slice(down, e, 0, down.dim(1)))));
            } else {
                g.add(owned.add(backend.weight(checkpoint.tensor(prefix + e + ".gate_proj.weight"))));
                u.add(owned.add(backend.weight(checkpoint.tensor(prefix + e + ".up_proj.weight"))));
                d.add(owned.add(backend.weight(checkpoint.tensor(prefix + e + ".down_proj.weight"))));
            }
        }
        return new ExpertWeights(g, u, d);
    }

    /** Rows {@code [first, first + rows)} of expert {@code e} of a stacked {@code [E, out, in]} tensor, in place. */
    private static Tensor slice(Tensor stacked, int e, int first, int rows) {
        long in = stacked.shape()[2];
        long rowBytes = in * stacked.dtype().bytes();
        long offset = ((long) e * stacked.shape()[1] + first) * rowBytes;
        return new Tensor(stacked.name() + "[" + e + "][" + first + ":" + (first + rows) + "]", stacked.dtype(),
                new long[] {rows, in}, stacked.data().asSlice(offset, rows * rowBytes), Optional.empty());
    }

    @Override
    public void forward(Rows rows, Buffer normed, Buffer out, RoutingControl routing) {
        int n = rows.count();
        int k = config.expertsPerToken();
        backend.matmul(normed, gate, n, logits);
        int[] forced = routing.replay(layer, n);
        if (forced != null) {
            backend.write(ids, 0, forced, 0, n * k);
        }
        ExpertRouter now = router.get();
        lastRouter = now != null ? now : lastRouter;
        lastRouter.route(backend, config, logits, bias, n, forced != null, ids, weights);
        if (routing.recording()) {
            backend.read(ids, 0, hostIds, 0, n * k);
            routing.record(layer, n, Arrays.copyOf(hostIds, n * k));
        }
        backend.experts(normed, experts, ids, weights, n, out);
    }

    @Override
    public void close() {
        owned.close();
    }
}
