package io.tessera.moe;

import io.tessera.api.DType;
import io.tessera.api.checkpoint.Checkpoint;
import io.tessera.api.checkpoint.CheckpointException;
import io.tessera.api.kernel.Buffer;
import io.tessera.api.kernel.KernelBackend;
import io.tessera.api.kernel.Rows;
import io.tessera.api.kernel.Weight;
import io.tessera.api.model.FeedForward;
import io.tessera.api.model.RoutingControl;
import io.tessera.common.Resources;

/** {@code y = down(silu(gate·m) ⊙ up·m)}: layer 0 and the MTP blocks. */
final class DenseMlp implements FeedForward {
    private final KernelBackend backend;
    private final Resources owned = new Resources();
    private final Weight gate;
    private final Weight up;
    private final Weight down;
    private final Buffer g;
    private final Buffer u;

    DenseMlp(KernelBackend backend, Checkpoint checkpoint, String prefix, int intermediate, int maxRows)
            throws CheckpointException {
        this.backend = backend;
        try {
            gate = owned.add(backend.weight(checkpoint.tensor(prefix + "gate_proj.weight")));
            up = owned.add(backend.weight(checkpoint.tensor(prefix + "up_proj.weight")));
            down = owned.add(backend.weight(checkpoint.tensor(prefix + "down_proj.weight")));
            g = owned.add(backend.allocate(DType.F32, maxRows, intermediate));
            u = owned.add(backend.allocate(DType.F32, maxRows, intermediate));
        } catch (CheckpointException | RuntimeException e) {
            owned.close();
            throw e;
        }
    }

    @Override
    public void forward(Rows rows, Buffer normed, Buffer out, RoutingControl routing) {
        int n = rows.count();
        backend.matmul(normed, gate, n, g);
        backend.matmul(normed, up, n, u);
        backend.siluMul(g, u, n, g);
        backend.matmul(g, down, n, out);
    }

    @Override
    public void close() {
        owned.close();
    }
}
