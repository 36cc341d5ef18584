package io.tessera.family.mimo;

import io.tessera.api.DType;
import io.tessera.api.checkpoint.Checkpoint;
import io.tessera.api.checkpoint.CheckpointException;
import io.tessera.api.checkpoint.LayerSpec;
import io.tessera.api.checkpoint.ModelConfig;
import io.tessera.api.kernel.Buffer;
import io.tessera.api.kernel.KernelBackend;
import io.tessera.api.kernel.Weight;
import io.tessera.api.model.Attention;
import io.tessera.api.model.CausalLm;
import io.tessera.api.model.DraftBlock;
import io.tessera.api.model.DraftHead;
import io.tessera.api.model.FeedForward;
import io.tessera.api.model.ModelComponents;
import io.tessera.api.model.ModelStep;
import io.tessera.api.model.RoutingControl;
import io.tessera.common.Resources;
import io.tessera.common.model.DecoderLayer;
import io.tessera.common.model.LmHead;
import java.util.ArrayList;
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
 * The components come from the services the engine chose for each layer; the KV caches are the engine's (main
 * layers first, then one per MTP block). One caller at a time.
 */
final class MiMoV2Flash implements CausalLm {
    private final KernelBackend backend;
    private final ModelConfig config;
    private final float eps;
    private final Resources owned = new Resources();

    private final Weight embedTokens;
    private final Weight norm;
    private final DecoderLayer[] layers;
    private final LmHead lmHead;

    private final Buffer tokens;      // I32 [maxRows, 1]
    private final Buffer h;           // residual stream [maxRows, hidden]
    private final Buffer normed;      // RMSNorm output [maxRows, hidden]
    private final Buffer blockOut;    // attention or MLP output [maxRows, hidden]
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
        this.eps = (float) config.rmsNormEps();
        int hidden = config.hiddenSize();
        try {
            embedTokens = owned.add(backend.weight(checkpoint.tensor("model.embed_tokens.weight")));
            norm = owned.add(backend.weight(checkpoint.tensor("model.norm.weight")));
            layers = new DecoderLayer[config.numHiddenLayers()];
            for (LayerSpec spec : config.layers()) {
                layers[spec.index()] = new DecoderLayer(backend, checkpoint, components, spec, maxRows, owned);
                progress.accept("layer " + spec.index() + "/" + config.numHiddenLayers() + " ready");
            }
            lmHead = new LmHead(backend, checkpoint, embedTokens, maxRows, owned);
            tokens = owned.add(backend.allocate(DType.I32, maxRows, 1));
            h = owned.add(backend.allocate(DType.F32, maxRows, hidden));
            normed = owned.add(backend.allocate(DType.F32, maxRows, hidden));
            blockOut = owned.add(backend.allocate(DType.F32, maxRows, hidden));
            DraftHead draftHead = components.draftHead();
            mtp = new DraftBlock[draftHead == null ? 0 : config.mtpLayers().size()];
            for (int k = 0; k < mtp.length; k++) {
                LayerSpec spec = config.mtpLayers().get(k);
                String prefix = "model.mtp.layers." + k + ".";
                Attention attention = components.attention(spec).create(backend, checkpoint, prefix + "self_attn.",
                        spec, maxRows);
                FeedForward mlp = components.feedForward().create(backend, checkpoint, prefix + "mlp.", spec,
                        maxRows);
                mtp[k] = owned.add(draftHead.create(backend, checkpoint, prefix, attention, mlp, embedTokens,
                        maxRows));
                progress.accept("MTP block " + k + " ready");
            }
            hiddenRing = maxRows + 8;   // a whole chunk plus the drafts' look-back
            hiddenStore = owned.add(backend.allocate(DType.F32, mtp.length == 0 ? 1 : sequences * hiddenRing,
                    hidden));
            hiddenIndex = owned.add(backend.allocate(DType.I32, maxRows, 1));
            draftHidden = owned.add(backend.allocate(DType.F32, maxRows, hidden));
            hiddenSlots = new int[maxRows];
        } catch (CheckpointException | RuntimeException e) {
            owned.close();
            throw e;
        }
    }

    @Override
    public void forward(ModelStep step, int[] wanted, RoutingControl routing) {
        int n = step.count();
        backend.write(tokens, 0, step.tokens(), 0, n);
        backend.embed(embedTokens, tokens, n, h);
        for (DecoderLayer layer : layers) {
            layer.forward(step, h, normed, blockOut, routing);
        }
        backend.rmsNorm(h, norm, eps, n, normed);
        if (mtp.length > 0) {
            backend.write(hiddenIndex, 0, hiddenSlots(step), 0, n);
            backend.scatterRows(normed, hiddenIndex, n, hiddenStore);
        }
        lmHead.logits(normed, wanted);
    }

    /** MTP block {@code k}: each row's hN_i comes from the ring the main steps filled. */
    @Override
    public void draft(int k, ModelStep step, int[] wanted) {
        int n = step.count();
        backend.write(tokens, 0, step.tokens(), 0, n);
        backend.write(hiddenIndex, 0, hiddenSlots(step), 0, n);
        backend.gatherRows(hiddenStore, hiddenIndex, n, draftHidden);
        int layer = config.numHiddenLayers() + k;
        mtp[k].forward(step.rows(layer), tokens, draftHidden, step.cache(layer), normed);
        lmHead.logits(normed, wanted);
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
    public void readLogits(int i, float[] row) {
        lmHead.readLogits(i, row);
    }

    @Override
    public void sample(int n, int vocab, float[] temperature, int[] topK, float[] topP, float[] uniform, int[] out) {
        lmHead.sample(n, vocab, temperature, topK, topP, uniform, out);
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
        List<Attention> all = new ArrayList<>();
        for (DecoderLayer layer : layers) {
            all.add(layer.attention());
        }
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
