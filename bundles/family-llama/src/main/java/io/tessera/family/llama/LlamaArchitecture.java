package io.tessera.family.llama;

import io.tessera.api.checkpoint.Checkpoint;
import io.tessera.api.checkpoint.CheckpointException;
import io.tessera.api.checkpoint.ConfigFields;
import io.tessera.api.checkpoint.LayerSpec;
import io.tessera.api.checkpoint.ModelConfig;
import io.tessera.api.kernel.KernelBackend;
import io.tessera.api.model.CausalLm;
import io.tessera.api.model.ModelArchitecture;
import io.tessera.api.model.ModelComponents;
import io.tessera.common.model.DecoderConfig;
import io.tessera.common.model.DecoderOnlyLm;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.osgi.service.component.annotations.Component;

/**
 * Llama 3 / 3.1 / 3.2 ({@code LlamaForCausalLM}): the pre-norm decoder stack with GQA, dense SwiGLU MLPs, RoPE
 * over the whole head with the {@code llama3} frequency rule (or none, or {@code linear}) from
 * {@code rope_parameters} or {@code rope_scaling}, tied or untied embeddings. Defaults are those of transformers'
 * {@code LlamaConfig}.
 */
@Component(property = {ModelArchitecture.ARCHITECTURE + "=LlamaForCausalLM", ModelArchitecture.MODEL_TYPE + "=llama"})
public class LlamaArchitecture implements ModelArchitecture {
    private static final DecoderConfig.Defaults LLAMA =
            new DecoderConfig.Defaults(32000, 4096, 11008, 32, 32, 0, 1e-6, 2048);

    @Override
    public ModelConfig config(ConfigFields f) {
        DecoderConfig d = DecoderConfig.read(f, LLAMA);
        f.expect("pretraining_tp", 1, "tensor-parallel pretraining slices are not supported");
        List<LayerSpec> layers = new ArrayList<>(d.layers());
        for (int i = 0; i < d.layers(); i++) {
            layers.add(d.layer(i, false, false));
        }
        return d.config(f, layers, 0, 0, 0, false);
    }

    @Override
    public CausalLm assemble(KernelBackend backend, Checkpoint checkpoint, ModelComponents components, int maxRows,
                             int sequences, Consumer<String> progress) throws CheckpointException {
        return new DecoderOnlyLm(backend, checkpoint, components, maxRows, progress);
    }
}
