package io.tessera.common.model;

import io.tessera.api.checkpoint.Checkpoint;
import io.tessera.api.checkpoint.CheckpointException;
import io.tessera.api.checkpoint.LayerSpec;
import io.tessera.api.kernel.Buffer;
import io.tessera.api.kernel.KernelBackend;
import io.tessera.api.kernel.Weight;
import io.tessera.api.model.Attention;
import io.tessera.api.model.FeedForward;
import io.tessera.api.model.ModelComponents;
import io.tessera.api.model.ModelStep;
import io.tessera.api.model.RoutingControl;
import io.tessera.common.Resources;

/**
 * One pre-norm decoder layer {@code model.layers.{i}.} as MiMo-V2-Flash, Qwen3 and Llama share it:
 *
 * <pre>
 * h = h + Attn(RMSNorm(h; input_layernorm))             the attention component the layer spec asks for
 * h = h + MLP(RMSNorm(h; post_attention_layernorm))     dense or routed experts, by the layer spec
 * </pre>
 *
 * The weights and components belong to {@code owned}, closed with the model.
 */
public final class DecoderLayer {
    private final KernelBackend backend;
    private final LayerSpec spec;
    private final float eps;
    private final Weight inputLayernorm;
    private final Attention attention;
    private final Weight postAttentionLayernorm;
    private final FeedForward mlp;

    public DecoderLayer(KernelBackend backend, Checkpoint checkpoint, ModelComponents components, LayerSpec spec,
                        int maxRows, Resources owned) throws CheckpointException {
        this.backend = backend;
        this.spec = spec;
        this.eps = (float) checkpoint.config().rmsNormEps();
        String prefix = "model.layers." + spec.index() + ".";
        inputLayernorm = owned.add(backend.weight(checkpoint.tensor(prefix + "input_layernorm.weight")));
        attention = owned.add(components.attention(spec).create(backend, checkpoint, prefix + "self_attn.", spec,
                maxRows));
        postAttentionLayernorm = owned.add(backend.weight(checkpoint.tensor(prefix
                + "post_attention_layernorm.weight")));
        mlp = owned.add(components.feedForward().create(backend, checkpoint, prefix + "mlp.", spec, maxRows));
    }

    /** Adds the layer's attention and MLP outputs to the residual stream {@code h}, row by row. */
    public void forward(ModelStep step, Buffer h, Buffer normed, Buffer blockOut, RoutingControl routing) {
        int n = step.count();
        int layer = spec.index();
        backend.rmsNorm(h, inputLayernorm, eps, n, normed);
        attention.forward(step.rows(layer), normed, step.cache(layer), blockOut);
        backend.add(h, blockOut, n);
        backend.rmsNorm(h, postAttentionLayernorm, eps, n, normed);
        mlp.forward(step.rows(layer), normed, blockOut, routing);
        backend.add(h, blockOut, n);
    }

    public Attention attention() {
        return attention;
    }
}
