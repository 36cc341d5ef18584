package io.tessera.common.model;

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
import io.tessera.api.model.ModelComponents;
import io.tessera.api.model.ModelStep;
import io.tessera.api.model.RoutingControl;
import io.tessera.common.Resources;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * The plain pre-norm decoder stack Llama and Qwen3 (dense and MoE) share ({@code LlamaForCausalLM},
 * {@code Qwen3ForCausalLM}, {@code Qwen3MoeForCausalLM} in transformers), one ragged batch of rows per call:
 *
 * <pre>
 * h = E[token]
 * for each layer L:
 *     h = h + Attn_L(RMSNorm(h; input_layernorm_L))          GQA, q/k RMSNorm per head where the spec says (Qwen3)
 *     h = h + MLP_L(RMSNorm(h; post_attention_layernorm_L))  dense SwiGLU or routed experts, by the layer spec
 * hN = RMSNorm(h; model.norm)
 * logits = lm_head · hN                                      lm_head tied to E where the config says
 * </pre>
 *
 * What differs between the families lives in their layer specs (RoPE table, q/k norm, MoE layers), made by each
 * family's config mapping. No draft blocks of its own: a family with draft heads (MiMo) wraps it, using
 * {@link #hidden}, {@link #logits} and {@link #embedTokens}. One caller at a time.
 */
public final class DecoderOnlyLm implements CausalLm {
    private final KernelBackend backend;
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

    public DecoderOnlyLm(KernelBackend backend, Checkpoint checkpoint, ModelComponents components, int maxRows,
                         Consumer<String> progress) throws CheckpointException {
        ModelConfig config = checkpoint.config();
        this.backend = backend;
        this.eps = (float) config.rmsNormEps();
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
            h = owned.add(backend.allocate(DType.F32, maxRows, config.hiddenSize()));
            normed = owned.add(backend.allocate(DType.F32, maxRows, config.hiddenSize()));
            blockOut = owned.add(backend.allocate(DType.F32, maxRows, config.hiddenSize()));
        } catch (CheckpointException | RuntimeException e) {
            owned.close();
            throw e;
        }
    }

    @Override
    public void forward(ModelStep step, int[] wanted, RoutingControl routing) {
        logits(hidden(step, routing), wanted);
    }

    /** The final-normed hidden states hN of the step's rows (a buffer of this model, valid until the next call). */
    public Buffer hidden(ModelStep step, RoutingControl routing) {
        int n = step.count();
        backend.write(tokens, 0, step.tokens(), 0, n);
        backend.embed(embedTokens, tokens, n, h);
        for (DecoderLayer layer : layers) {
            layer.forward(step, h, normed, blockOut, routing);
        }
        backend.rmsNorm(h, norm, eps, n, normed);
        return normed;
    }

    /** lm_head over the {@code wanted} rows of a final-normed {@code [R, hidden]} buffer (e.g. a draft block's). */
    public void logits(Buffer finalNormed, int[] wanted) {
        lmHead.logits(finalNormed, wanted);
    }

    /** The lm_head itself, for a family that drafts over a shortlist ({@link LmHead#shortlist}). */
    public LmHead lmHead() {
        return lmHead;
    }

    /** The embedding {@code model.embed_tokens.weight}, for heads that share it. */
    public Weight embedTokens() {
        return embedTokens;
    }

    @Override
    public int draftBlocks() {
        return 0;
    }

    @Override
    public void draft(int k, ModelStep step, int[] wanted) {
        throw new IllegalArgumentException("draft block " + k + ": this model has no draft blocks");
    }

    @Override
    public void mask(int n, int[] bits, int words) {
        lmHead.mask(n, bits, words);
    }

    @Override
    public void readLogits(int i, float[] row) {
        lmHead.readLogits(i, row);
    }

    @Override
    public void sample(int n, int vocab, float[] temperature, int[] topK, float[] topP, float[] uniform, int[] out) {
        lmHead.sample(n, vocab, temperature, topK, topP, uniform, out);
    }

    /** Nothing lives outside the engine's KV pool between steps. */
    @Override
    public void copyStateTo(CausalLm target) {
    }

    @Override
    public List<Attention> attentions() {
        List<Attention> all = new ArrayList<>();
        for (DecoderLayer layer : layers) {
            all.add(layer.attention());
        }
        return all;
    }

    @Override
    public void close() {
        owned.close();
    }
}
