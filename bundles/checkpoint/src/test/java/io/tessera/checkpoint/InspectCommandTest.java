package io.tessera.checkpoint;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tessera.checkpoint.SafetensorsWriter.Spec;
import io.tessera.checkpoint.TestModels.Dims;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class InspectCommandTest {
    private final InspectCommand command = new InspectCommand(TestModels.loader());

    @TempDir
    Path tmp;

    private static void contains(String out, String... parts) {
        for (String p : parts) {
            assertTrue(out.contains(p), "'" + p + "' not in:\n" + out);
        }
    }

    @Test
    void printsConfigLayerTableAndBytesByDtype() throws Exception {
        Dims d = Dims.tiny(true);
        Path dir = TestModels.writeSharded(tmp.resolve("m"), TestModels.hubConfig(d), TestModels.hubTensors(d),
                TestModels.byLayer(d));
        String out = command.inspect(dir.toString());
        contains(out, "MiMoV2FlashForCausalLM", "layout HUB", "layers 3 (+1 MTP)",
                "layer attention       heads/kv  qk/v dim  rotary     theta scaling window sink qk-norm mlp",
                "    0 global               4/1       8/4       4   5000000 default      0   no      no dense",
                "    1 sliding-window       4/2       8/4       4     10000 default      4  yes      no MoE",
                " mtp3 sliding-window       4/2       8/4       4     10000 default      4  yes      no dense",
                "68 tensors + 42 FP8 block-scale tensors", "F8_E4M3        42 tensors              218,144 bytes",
                "valid: every expected tensor is present");
    }

    @Test
    void listsProblemsInsteadOfThrowing() throws Exception {
        Dims d = Dims.tiny(false);
        List<Spec> tensors = TestModels.hubTensors(d);
        tensors.removeIf(s -> s.name().startsWith("model.layers.") && s.name().contains(".mlp.experts."));
        Path dir = TestModels.writeSingle(tmp.resolve("m"), TestModels.hubConfig(d), tensors);
        contains(command.inspect(dir.toString()), "problems: 24",
                "tensor 'model.layers.2.mlp.experts.0.gate_proj.weight': missing", "... and 4 more");

        Files.writeString(dir.resolve("config.json"), "{\"architectures\": [\"MiMoV2FlashForCausalLM\"], \"num_hidden_layers\": -1}");
        contains(command.inspect(dir.toString()), "cannot open", "field 'num_hidden_layers'", "config.json");
        contains(command.inspect(tmp.resolve("absent").toString()), "cannot open", "not a directory");
    }
}
