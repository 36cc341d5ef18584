package io.tessera.mtp;

import io.tessera.api.checkpoint.Checkpoint;
import io.tessera.api.checkpoint.CheckpointException;
import io.tessera.api.kernel.KernelBackend;
import io.tessera.api.kernel.Weight;
import io.tessera.api.model.Attention;
import io.tessera.api.model.DraftBlock;
import io.tessera.api.model.DraftHead;
import io.tessera.api.model.FeedForward;
import org.osgi.service.component.annotations.Component;

/** MiMo-V2-Flash MTP blocks (spec §4): non-chain, each fed the main model's final-normed hidden state. */
@Component
public class MtpDraftHead implements DraftHead {

    @Override
    public DraftBlock create(KernelBackend backend, Checkpoint checkpoint, String prefix, Attention attention,
                             FeedForward mlp, Weight embedding, int maxRows) throws CheckpointException {
        return new MtpBlock(backend, checkpoint, prefix, attention, mlp, embedding, maxRows);
    }
}
