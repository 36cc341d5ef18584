package io.tessera.mtp;

import io.tessera.api.checkpoint.Checkpoint;
import io.tessera.api.checkpoint.CheckpointException;
import io.tessera.api.kernel.KernelBackend;
import io.tessera.api.kernel.Weight;
import io.tessera.api.model.Attention;
import io.tessera.api.model.DraftBlock;
import io.tessera.api.model.DraftHead;
import io.tessera.api.model.FeedForward;
import java.io.IOException;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/**
 * MiMo-V2-Flash MTP blocks (spec §4): non-chain, each fed the main model's final-normed hidden state. With a
 * frequency table in the checkpoint ({@link Shortlist}) the blocks draft among its {@code shortlist} most frequent
 * ids (configuration PID {@code io.tessera.mtp}; models assembled afterwards).
 */
@Component(configurationPid = "io.tessera.mtp")
@Designate(ocd = MtpDraftHead.Settings.class)
public class MtpDraftHead implements DraftHead {
    /** Draft-head settings. */
    @ObjectClassDefinition(name = "Tessera MTP draft heads")
    public @interface Settings {
        @AttributeDefinition(description = "Ids the draft heads draft among: the most frequent of the checkpoint's "
                + "draft_shortlist.tsv.gz (0, or no table: the whole vocabulary); models assembled afterwards")
        int shortlist() default 0;
    }

    private volatile int shortlist;

    @Activate
    @Modified
    void configure(Settings settings) {
        shortlist = Math.max(0, settings.shortlist());
    }

    @Override
    public DraftBlock create(KernelBackend backend, Checkpoint checkpoint, String prefix, Attention attention,
                             FeedForward mlp, Weight embedding, int maxRows) throws CheckpointException {
        int[] vocabulary;
        try {
            vocabulary = Shortlist.read(checkpoint.directory(), shortlist, checkpoint.config().vocabSize());
        } catch (IOException | RuntimeException e) {
            throw new CheckpointException(checkpoint.directory().resolve(Shortlist.FILE),
                    "the MTP shortlist is unreadable: " + e.getMessage(), e);
        }
        return new MtpBlock(backend, checkpoint, prefix, attention, mlp, embedding, maxRows, vocabulary);
    }
}
