package io.tessera.engine;

import io.tessera.api.DType;
import io.tessera.api.checkpoint.Checkpoint;
import io.tessera.api.checkpoint.CheckpointException;
import io.tessera.api.checkpoint.LayerSpec;
import io.tessera.api.checkpoint.ModelConfig;
import io.tessera.api.kernel.Buffer;
import io.tessera.api.kernel.KernelBackend;
import io.tessera.api.kernel.Weight;
import io.tessera.api.model.Attention;
import io.tessera.api.model.AttentionFactory;
import io.tessera.api.model.DraftBlock;
import io.tessera.api.model.DraftHead;
import io.tessera.api.model.FeedForward;
import io.tessera.api.model.FeedForwardFactory;
import io.tessera.api.model.RoutingControl;
import io.tessera.common.Resources;
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
 * The components come from the services the engine chose for each layer; the KV caches are the engine's
 * ({@link KvPool}, main layers first, then one per MTP block). One caller at a time.
 */
final class MiMoV2Flash implements AutoCloseable {
    private final KernelBackend backend;
    private final ModelConfig config;
    private final float eps;
    private final Resources owned = new Resources();

    private final Weight embedTokens;
    private final Weight norm;
    private final Weight lmHead;
    private final Layer[] layers;

    private final Buffer tokens;      // I32 [maxRows, 1]
    private final Buffer h;           // residual stream [maxRows, hidden]
    private final Buffer normed;      // RMSNorm output [maxRows, hidden]
    private final Buffer blockOut;    // attention or MLP output [maxRows, hidden]
    private final Buffer outputRows;  // I32 [maxRows, 1]: rows whose logits are wanted
    private final Buffer selected;    // final-normed hidden states of those rows [maxRows, hidden]
    private final Buffer logits;      // [maxRows, vocab]
    private final Buffer sampled;     // I32 [maxRows, 1]
    private final Buffer allowed;     // I32 [maxRows, ceil(vocab / 32)]: grammar masks
    private final DraftBlock[] mtp;
    private final int hiddenRing;     // hN rows kept per sequence for the MTP blocks
    private final Buffer hiddenStore; // [sequences × hiddenRing, hidden]
    private final Buffer hiddenIndex; // I32 [maxRows, 1]
    private final Buffer draftHidden; // [maxRows, hidden]
    private final int[] hiddenSlots;  // host side of hiddenIndex, reused every step

    private record Layer(LayerSpec spec, Weight inputLayernorm, Attention attention, Weight postAttentionLayernorm,
                         FeedForward mlp) {
    }

    MiMoV2Flash(KernelBackend backend, Checkpoint checkpoint, Components components, int maxRows, int sequences,
                Consumer<String> progress) throws CheckpointException {
        this.backend = backend;
        this.config = checkpoint.config();
        this.eps = (float) config.rmsNormEps();
        int hidden = config.hiddenSize();
        try {
            embedTokens = owned.add(backend.weight(checkpoint.tensor("model.embed_tokens.weight")));
            norm = owned.add(backend.weight(checkpoint.tensor("model.norm.weight")));
            lmHead = owned.add(backend.weight(checkpoint.tensor(
                    config.tieWordEmbeddings() ? "model.embed_tokens.weight" : "lm_head.weight")));
            layers = new Layer[config.numHiddenLayers()];
            for (LayerSpec spec : config.layers()) {
                String prefix = "model.layers." + spec.index() + ".";
                AttentionFactory attention = components.attention(spec);
                FeedForwardFactory mlp = components.feedForward();
                layers[spec.index()] = new Layer(spec,
                        owned.add(backend.weight(checkpoint.tensor(prefix + "input_layernorm.weight"))),
                        owned.add(attention.create(backend, checkpoint, prefix + "self_attn.", spec, maxRows)),
                        owned.add(backend.weight(checkpoint.tensor(prefix + "post_attention_layernorm.weight"))),
                        owned.add(mlp.create(backend, checkpoint, prefix + "mlp.", spec, maxRows)));
                progress.accept("layer " + spec.index() + "/" + config.numHiddenLayers() + " ready");
            }
            tokens = owned.add(backend.allocate(DType.I32, maxRows, 1));
            h = owned.add(backend.allocate(DType.F32, maxRows, hidden));
            normed = owned.add(backend.allocate(DType.F32, maxRows, hidden));
            blockOut = owned.add(backend.allocate(DType.F32, maxRows, hidden));
            outputRows = owned.add(backend.allocate(DType.I32, maxRows, 1));
            selected = owned.add(backend.allocate(DType.F32, maxRows, hidden));
            logits = owned.add(backend.allocate(DType.F32, maxRows, config.vocabSize()));
            sampled = owned.add(backend.allocate(DType.I32, maxRows, 1));
            allowed = owned.add(backend.allocate(DType.I32, maxRows, (config.vocabSize() + 31) / 32));
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

    /**
     * Runs the main model over one step's rows and leaves the logits of {@code wanted} rows (indices into the
     * step, in order) in {@link #logits()}, row {@code i} for {@code wanted[i]}.
     */
    void forward(Step step, KvPool kv, int[] wanted, RoutingControl routing) {
        int n = step.count();
        backend.write(tokens, 0, step.tokens(), 0, n);
        try (KvPool.StepRows rows = kv.rows(step)) {
            backend.embed(embedTokens, tokens, n, h);
            for (Layer layer : layers) {
                backend.rmsNorm(h, layer.inputLayernorm, eps, n, normed);
                layer.attention.forward(rows.of(layer.spec.index()), normed, kv.cache(layer.spec.index()), blockOut);
                backend.add(h, blockOut, n);
                backend.rmsNorm(h, layer.postAttentionLayernorm, eps, n, normed);
                layer.mlp.forward(rows.of(layer.spec.index()), normed, blockOut, routing);
                backend.add(h, blockOut, n);
            }
        }
        backend.rmsNorm(h, norm, eps, n, normed);
        if (mtp.length > 0) {
            backend.write(hiddenIndex, 0, hiddenSlots(step), 0, n);
            backend.scatterRows(normed, hiddenIndex, n, hiddenStore);
        }
        logits(normed, wanted);
    }

    /**
     * MTP block {@code k} over one step's rows (token x_{i+k+1} at position i of each row), leaving the logits of
     * {@code wanted} rows in {@link #logits()}. Each row's hN_i comes from the ring the main steps filled.
     */
    void draft(int k, Step step, KvPool kv, int[] wanted) {
        int n = step.count();
        backend.write(tokens, 0, step.tokens(), 0, n);
        backend.write(hiddenIndex, 0, hiddenSlots(step), 0, n);
        backend.gatherRows(hiddenStore, hiddenIndex, n, draftHidden);
        int layer = config.numHiddenLayers() + k;
        try (KvPool.StepRows rows = kv.rows(step)) {
            mtp[k].forward(rows.of(layer), tokens, draftHidden, kv.cache(layer), normed);
        }
        logits(normed, wanted);
    }

    /** Each row's slot in the hN ring: its sequence's ring, at its position modulo the ring. */
    private int[] hiddenSlots(Step step) {
        for (int r = 0; r < step.count(); r++) {
            hiddenSlots[r] = step.slots()[r] * hiddenRing + step.positions()[r] % hiddenRing;
        }
        return hiddenSlots;
    }

    /** lm_head over the wanted rows of a final-normed {@code [R, hidden]} buffer. */
    private void logits(Buffer finalNormed, int[] wanted) {
        backend.write(outputRows, 0, wanted, 0, wanted.length);
        backend.gatherRows(finalNormed, outputRows, wanted.length, selected);
        backend.matmul(selected, lmHead, wanted.length, logits);
    }

    /** MTP blocks available (0 when the checkpoint has none or no DraftHead service is present). */
    int draftBlocks() {
        return mtp.length;
    }

    /** Copies logits row {@code i} of the last forward or draft to the host. */
    void readLogits(int i, float[] row) {
        backend.read(logits, (long) i * config.vocabSize(), row, 0, config.vocabSize());
    }

    /** Sets the disallowed ids of the first {@code n} logits rows to −∞ ({@code bits}: {@code words} ints a row). */
    void mask(int n, int[] bits, int words) {
        backend.write(allowed, 0, bits, 0, n * words);
        backend.maskLogits(logits, allowed, n);
    }

    /**
     * Draws one token below {@code vocab} for each of the first {@code n} logits rows of the last
     * {@link #forward} (temperature 0: argmax) with the host's uniform numbers, and waits for the ids.
     */
    void sample(int n, int vocab, float[] temperature, int[] topK, float[] topP, float[] uniform, int[] out) {
        backend.sample(logits, n, vocab, temperature, topK, topP, uniform, sampled);
        backend.read(sampled, 0, out, 0, n);
    }

    /**
     * Hot swap: copies the draft heads' ring of recent hN rows to {@code target}, an assembly of the same model on
     * another backend (through the host: buffers of two backends never meet).
     */
    void copyHiddenTo(MiMoV2Flash target) {
        if (mtp.length == 0 || target.mtp.length == 0) {
            return;
        }
        int hidden = config.hiddenSize();
        float[] row = new float[hidden];
        for (int r = 0; r < hiddenStore.rows(); r++) {
            backend.read(hiddenStore, (long) r * hidden, row, 0, hidden);
            target.backend.write(target.hiddenStore, (long) r * hidden, row, 0, hidden);
        }
    }

    /** The attention of each main layer, then of each MTP block, for sizing the KV pool. */
    Attention[] attentions() {
        Attention[] all = new Attention[layers.length + mtp.length];
        for (int l = 0; l < layers.length; l++) {
            all[l] = layers[l].attention;
        }
        for (int k = 0; k < mtp.length; k++) {
            all[layers.length + k] = mtp[k].attention();
        }
        return all;
    }

    @Override
    public void close() {
        owned.close();
    }
}
