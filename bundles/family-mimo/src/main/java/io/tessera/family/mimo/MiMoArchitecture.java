package io.tessera.family.mimo;

import io.tessera.api.checkpoint.Checkpoint;
import io.tessera.api.checkpoint.CheckpointException;
import io.tessera.api.checkpoint.ConfigFields;
import io.tessera.api.checkpoint.ModelConfig;
import io.tessera.api.kernel.KernelBackend;
import io.tessera.api.model.CausalLm;
import io.tessera.api.model.ModelArchitecture;
import io.tessera.api.model.ModelComponents;
import java.util.function.Consumer;
import org.osgi.service.component.annotations.Component;

/** MiMo-V2-Flash ({@code MiMoV2FlashForCausalLM}): hybrid sliding-window/global attention with sinks, MoE, MTP. */
@Component(property = {ModelArchitecture.ARCHITECTURE + "=MiMoV2FlashForCausalLM",
        ModelArchitecture.MODEL_TYPE + "=mimo_v2_flash"})
public class MiMoArchitecture implements ModelArchitecture {

    @Override
    public ModelConfig config(ConfigFields fields) {
        return MiMoConfig.map(fields);
    }

    @Override
    public CausalLm assemble(KernelBackend backend, Checkpoint checkpoint, ModelComponents components, int maxRows,
                             int sequences, Consumer<String> progress) throws CheckpointException {
        return new MiMoV2Flash(backend, checkpoint, components, maxRows, sequences, progress);
    }
}
