package io.tessera.mtp;

import io.tessera.api.DType;
import io.tessera.api.checkpoint.Checkpoint;
import io.tessera.api.checkpoint.CheckpointException;
import io.tessera.api.kernel.Buffer;
import io.tessera.api.kernel.KernelBackend;
import io.tessera.api.kernel.KvCache;
import io.tessera.api.kernel.Rows;
import io.tessera.api.kernel.Weight;
import io.tessera.api.model.Attention;
import io.tessera.api.model.DraftBlock;
import io.tessera.api.model.FeedForward;
import io.tessera.api.model.RoutingControl;
import io.tessera.common.Resources;

/** One MTP block; the math is on {@link DraftBlock}. */
final class MtpBlock implements DraftBlock {
    private final KernelBackend backend;
    private final float eps;
    private final Resources owned = new Resources();
    private final Attention attention;
    private final FeedForward mlp;
    private final Weight embedding;
    private final Weight enorm;
    private final Weight hnorm;
    private final Weight ehProj;
    private final Weight inputLayernorm;
    private final Weight preMlpLayernorm;
    private final Weight finalLayernorm;
    private final Buffer embedded;   // [maxRows, hidden]
    private final Buffer normed;     // [maxRows, hidden]
    private final Buffer both;       // [maxRows, 2·hidden]
    private final Buffer r;          // residual stream [maxRows, hidden]
    private final Buffer blockOut;   // [maxRows, hidden]
    private final int[] vocabulary;  // the shortlist drafted among, or null

    MtpBlock(KernelBackend backend, Checkpoint checkpoint, String prefix, Attention attention, FeedForward mlp,
             Weight embedding, int maxRows, int[] vocabulary) throws CheckpointException {
        this.backend = backend;
        this.vocabulary = vocabulary;
        this.eps = (float) checkpoint.config().rmsNormEps();
        this.attention = owned.add(attention);
        this.mlp = owned.add(mlp);
        this.embedding = embedding;
        int hidden = checkpoint.config().hiddenSize();
        try {
            enorm = owned.add(backend.weight(checkpoint.tensor(prefix + "enorm.weight")));
            hnorm = owned.add(backend.weight(checkpoint.tensor(prefix + "hnorm.weight")));
            ehProj = owned.add(backend.weight(checkpoint.tensor(prefix + "eh_proj.weight")));
            inputLayernorm = owned.add(backend.weight(checkpoint.tensor(prefix + "input_layernorm.weight")));
            preMlpLayernorm = owned.add(backend.weight(checkpoint.tensor(prefix + "pre_mlp_layernorm.weight")));
            finalLayernorm = owned.add(backend.weight(checkpoint.tensor(prefix + "final_layernorm.weight")));
            embedded = owned.add(backend.allocate(DType.F32, maxRows, hidden));
            normed = owned.add(backend.allocate(DType.F32, maxRows, hidden));
            both = owned.add(backend.allocate(DType.F32, maxRows, 2 * hidden));
            r = owned.add(backend.allocate(DType.F32, maxRows, hidden));
            blockOut = owned.add(backend.allocate(DType.F32, maxRows, hidden));
        } catch (CheckpointException | RuntimeException e) {
            owned.close();
            throw e;
        }
    }

    @Override
    public Attention attention() {
        return attention;
    }

    @Override
    public int[] vocabulary() {
        return vocabulary;
    }

    @Override
    public void forward(Rows rows, Buffer tokens, Buffer hidden, KvCache cache, Buffer out) {
        int n = rows.count();
        backend.embed(embedding, tokens, n, embedded);
        backend.rmsNorm(embedded, enorm, eps, n, embedded);
        backend.rmsNorm(hidden, hnorm, eps, n, normed);
        backend.concat(embedded, normed, n, both);
        backend.matmul(both, ehProj, n, r);
        backend.rmsNorm(r, inputLayernorm, eps, n, normed);
        attention.forward(rows, normed, cache, blockOut);
        backend.add(r, blockOut, n);
        backend.rmsNorm(r, preMlpLayernorm, eps, n, normed);
        mlp.forward(rows, normed, blockOut, RoutingControl.NONE);
        backend.add(r, blockOut, n);
        backend.rmsNorm(r, finalLayernorm, eps, n, out);
    }

    @Override
    public void close() {
        owned.close();
    }
}
