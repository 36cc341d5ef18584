package io.tessera.family.mimo;

import io.tessera.api.DType;
import io.tessera.api.checkpoint.Checkpoint;
import io.tessera.api.checkpoint.CheckpointException;
import io.tessera.api.checkpoint.LayerSpec;
import io.tessera.api.checkpoint.ModelConfig;
import io.tessera.api.kernel.Buffer;
import io.tessera.api.kernel.KernelBackend;
import io.tessera.api.model.Attention;
import io.tessera.api.model.CausalLm;
import io.tessera.api.model.DraftBlock;
import io.tessera.api.model.DraftHead;
import io.tessera.api.model.FeedForward;
import io.tessera.api.model.ModelComponents;
import io.tessera.api.model.ModelStep;
import io.tessera.api.model.RoutingControl;
import io.tessera.common.Resources;
import io.tessera.common.model.DecoderOnlyLm;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;

/**
 * The MiMo-V2-Flash forward pass ({@code MiMoV2FlashForCausalLM}, spec §3), one ragged batch of rows per call:
 *
 * <pre>
 * h = E[token]
 * for each layer L:
 *     h = h + Attn_L(RMSNorm(h; input_layernorm_L))              global or sliding-window, by the layer spec
 *     h = h + MLP_L(RMSNorm(h; post_attention_layernorm_L))      dense for layer 0, MoE after
 * hN = RMSNorm(h; model.norm)
 * logits = lm_head · hN                                          only for the rows that need them
 * </pre>
 *
 * With MTP blocks ({@link #draft}), block k at position i takes hN_i and token x_{i+k+1} (spec §4); the main
 * step keeps each sequence's recent hN rows in a ring ({@code hiddenStore}) for them.
 *
 * The main model is the shared pre-norm decoder stack ({@link DecoderOnlyLm}) with the components the engine chose
 * for each layer; the KV caches are the engine's (main layers first, then one per MTP block). One caller at a time.
 */
final class MiMoV2Flash implements CausalLm {
    private final KernelBackend backend;
    private final ModelConfig config;
    private final Resources owned = new Resources();

    private final DecoderOnlyLm main;  // embedding, layers, model.norm, lm_head
    private final Buffer tokens;      // I32 [maxRows, 1]
    private final Buffer draftOut;    // a draft block's final-normed output [maxRows, hidden]
    private final DraftBlock[] mtp;
    private final int hiddenRing;     // hN rows kept per sequence for the MTP blocks
    private final Buffer hiddenStore; // [sequences × hiddenRing, hidden]
    private final Buffer hiddenIndex; // I32 [maxRows, 1]
    private final Buffer draftHidden; // [maxRows, hidden]
    private final int[] hiddenSlots;  // host side of hiddenIndex, reused every step

    MiMoV2Flash(KernelBackend backend, Checkpoint checkpoint, ModelComponents components, int maxRows, int sequences,
                Consumer<String> progress) throws CheckpointException {
        this.backend = backend;
        this.config = checkpoint.config();
        int hidden = config.hiddenSize();
        try {
            main = owned.add(new DecoderOnlyLm(backend, checkpoint, components, maxRows, progress));
            tokens = owned.add(backend.allocate(DType.I32, maxRows, 1));
            draftOut = owned.add(backend.allocate(DType.F32, maxRows, hidden));
            DraftHead draftHead = components.draftHead();
            mtp = new DraftBlock[draftHead == null ? 0 : config.mtpLayers().size()];
            for (int k = 0; k < mtp.length; k++) {
                LayerSpec spec = config.mtpLayers().get(k);
                String prefix = "model.mtp.layers." + k + ".";
                Attention attention = components.attention(spec).create(backend, checkpoint, prefix + "self_attn.",
                        spec, maxRows);
                FeedForward mlp = components.feedForward().create(backend, checkpoint, prefix + "mlp.", spec,
                        maxRows);
                mtp[k] = owned.add(draftHead.create(backend, checkpoint, prefix, attention, mlp, main.embedTokens(),
                        maxRows));
                progress.accept("MTP block " + k + " ready");
            }
            // a whole chunk plus the drafts' look-back, plus a window: a head that sat out catches up on its window
            int window = config.mtpLayers().stream().mapToInt(LayerSpec::window).max().orElse(0);
            hiddenRing = maxRows + 8 + window;
            hiddenStore = owned.add(backend.allocate(DType.F32, mtp.length == 0 ? 1 : sequences * hiddenRing,
                    hidden));
            hiddenIndex = owned.add(backend.allocate(DType.I32, maxRows, 1));
            draftHidden = owned.add(backend.allocate(DType.F32, maxRows, hidden));
            hiddenSlots = new int[maxRows];
            int[] shortlist = sharedVocabulary(mtp);
            if (shortlist != null) {
                main.lmHead().shortlist(shortlist, owned);
            }
        } catch (CheckpointException | RuntimeException e) {
            owned.close();
            throw e;
        }
    }

    @Override
    public void forward(ModelStep step, int[] wanted, RoutingControl routing) {
        Buffer hN = main.hidden(step, routing);
        if (mtp.length > 0) {
            backend.write(hiddenIndex, 0, hiddenSlots(step), 0, step.count());
            backend.scatterRows(hN, hiddenIndex, step.count(), hiddenStore);
        }
        main.logits(hN, wanted);
    }

    /** The vocabulary every block drafts among, if they share one; else null (every id). */
    private static int[] sharedVocabulary(DraftBlock[] blocks) {
        int[] shared = blocks.length == 0 ? null : blocks[0].vocabulary();
        for (DraftBlock block : blocks) {
            shared = Arrays.equals(shared, block.vocabulary()) ? shared : null;
        }
        return shared;
    }

    @Override
    public void draft(int k, ModelStep step, int[] wanted) {
        draft(k, step, wanted, false);
    }

    /**
     * MTP block {@code k}: each row's hN_i comes from the ring the main steps filled; the logits are over the
     * heads' shortlist when they have one, unless {@code fullVocabulary}.
     */
    @Override
    public void draft(int k, ModelStep step, int[] wanted, boolean fullVocabulary) {
        int n = step.count();
        backend.write(tokens, 0, step.tokens(), 0, n);
        backend.write(hiddenIndex, 0, hiddenSlots(step), 0, n);
        backend.gatherRows(hiddenStore, hiddenIndex, n, draftHidden);
        int layer = config.numHiddenLayers() + k;
        mtp[k].forward(step.rows(layer), tokens, draftHidden, step.cache(layer), draftOut);
        if (fullVocabulary || !main.lmHead().hasShortlist()) {
            main.logits(draftOut, wanted);
        } else {
            main.lmHead().shortlistLogits(draftOut, wanted);
        }
    }

    /** Each row's slot in the hN ring: its sequence's ring, at its position modulo the ring. */
    private int[] hiddenSlots(ModelStep step) {
        for (int r = 0; r < step.count(); r++) {
            hiddenSlots[r] = step.slots()[r] * hiddenRing + step.positions()[r] % hiddenRing;
        }
        return hiddenSlots;
    }

    @Override
    public int draftBlocks() {
        return mtp.length;
    }

    @Override
    public void mask(int n, int[] bits, int words) {
        main.mask(n, bits, words);
    }

    @Override
    public void readLogits(int i, float[] row) {
        main.readLogits(i, row);
    }

    @Override
    public void sample(int n, int vocab, float[] temperature, int[] topK, float[] topP, float[] uniform, int[] out) {
        main.sample(n, vocab, temperature, topK, topP, uniform, out);
    }

    /** Hot swap: the draft heads' ring of recent hN rows, through the host (buffers of two backends never meet). */
    @Override
    public void copyStateTo(CausalLm other) {
        if (!(other instanceof MiMoV2Flash target) || mtp.length == 0 || target.mtp.length == 0) {
            return;
        }
        int hidden = config.hiddenSize();
        float[] row = new float[hidden];
        for (int r = 0; r < hiddenStore.rows(); r++) {
            backend.read(hiddenStore, (long) r * hidden, row, 0, hidden);
            target.backend.write(target.hiddenStore, (long) r * hidden, row, 0, hidden);
        }
    }

    @Override
    public List<Attention> attentions() {
        List<Attention> all = new ArrayList<>(main.attentions());
        for (DraftBlock block : mtp) {
            all.add(block.attention());
        }
        return all;
    }

    @Override
    public void close() {
        owned.close();
    }
}
