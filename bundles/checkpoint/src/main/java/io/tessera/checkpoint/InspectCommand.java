package io.tessera.checkpoint;

import io.tessera.api.DType;
import io.tessera.api.Tensor;
import io.tessera.api.checkpoint.CheckpointException;
import io.tessera.api.checkpoint.CheckpointLoader;
import io.tessera.api.checkpoint.LayerSpec;
import io.tessera.api.checkpoint.ModelConfig;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import org.apache.felix.service.command.Descriptor;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

/** {@code model:inspect <dir>}: what a checkpoint directory holds and what it lacks, without loading a model. */
@Component(service = InspectCommand.class, property = {"osgi.command.scope=model", "osgi.command.function=inspect"})
public class InspectCommand {
    private static final int LISTED = 20;
    private final SafetensorsCheckpointLoader loader;

    /** The bundle's own loader, with the model families it sees. */
    @Activate
    public InspectCommand(@Reference(target = "(component.name=io.tessera.checkpoint.SafetensorsCheckpointLoader)")
                          CheckpointLoader loader) {
        this.loader = (SafetensorsCheckpointLoader) loader;
    }

    @Descriptor("show the config, per-layer table, tensor bytes by dtype and validation problems of a checkpoint")
    public String inspect(@Descriptor("checkpoint directory") String directory) {
        Path dir = Path.of(directory).toAbsolutePath();
        SafetensorsCheckpointLoader.Loaded loaded;
        try {
            loaded = loader.load(dir);
        } catch (CheckpointException e) {
            return "cannot open " + dir + ":\n  " + String.join("\n  ", e.problems()) + "\n  (file: " + e.file() + ")";
        }
        try {
            return report(loaded);
        } finally {
            loaded.checkpoint().close();
        }
    }

    static String report(SafetensorsCheckpointLoader.Loaded loaded) {
        StringBuilder out = new StringBuilder();
        ModelConfig c = loaded.checkpoint().config();
        out.append(String.format("%s  %s  layout %s%n", loaded.checkpoint().directory(), c.architecture(),
                loaded.checkpoint().layout()));
        out.append(String.format("hidden %d  vocab %d  layers %d (+%d MTP)  max positions %d  rms eps %g  tied %s%n",
                c.hiddenSize(), c.vocabSize(), c.numHiddenLayers(), c.mtpLayers().size(), c.maxPositionEmbeddings(),
                c.rmsNormEps(), c.tieWordEmbeddings()));
        out.append(String.format("experts %d top-%d (%s, %s, groups %d/%d, norm %s, scale %s)  dense ffn %d  expert ffn %d%n",
                c.routedExperts(), c.expertsPerToken(), c.scoringFunc(), c.topkMethod(), c.nGroup(), c.topkGroup(),
                c.normTopkProb(), c.routedScalingFactor(), c.intermediateSize(), c.moeIntermediateSize()));
        out.append("quantization ").append(c.quantization().map(q -> q.method() + " " + q.format() + " blocks "
                + q.blockRows() + "x" + q.blockCols() + ", " + q.ignoredLayers().size() + " ignored layers")
                .orElse("none")).append("  bos ").append(c.bosTokenId().map(String::valueOf).orElse("-"))
                .append("  eos ").append(c.eosTokenIds()).append('\n');
        out.append(String.format("%5s %-14s %9s %9s %7s %9s %-7s %6s %4s %7s %s%n",
                "layer", "attention", "heads/kv", "qk/v dim", "rotary", "theta", "scaling", "window", "sink",
                "qk-norm", "mlp"));
        for (List<LayerSpec> group : List.of(c.layers(), c.mtpLayers())) {
            for (LayerSpec l : group) {
                out.append(String.format("%5s %-14s %9s %9s %7d %9.0f %-7s %6d %4s %7s %s%n",
                        (l.index() >= c.numHiddenLayers() ? "mtp" : "") + l.index(), l.attention().property(),
                        l.heads() + "/" + l.kvHeads(), l.headDim() + "/" + l.valueHeadDim(), l.rotaryDim(),
                        l.ropeTheta(), l.ropeScaling().type(), l.window(), l.sink() ? "yes" : "no",
                        l.qkNorm() ? "yes" : "no", l.moe() ? "MoE" : "dense"));
            }
        }
        Map<DType, long[]> byType = new EnumMap<>(DType.class);
        long scales = 0;
        for (Tensor t : loaded.checkpoint().tensors()) {
            count(byType, t);
            if (t.scaleInv().isPresent()) {
                count(byType, t.scaleInv().get());
                scales++;
            }
        }
        out.append(loaded.checkpoint().tensors().size()).append(" tensors + ").append(scales)
                .append(" FP8 block-scale tensors attached to their weights; bytes by dtype:\n");
        byType.forEach((type, n) -> out.append(String.format("  %-8s %8d tensors %,20d bytes%n", type, n[0], n[1])));
        list(out, "unexpected tensors (not used by any layer)", loaded.unexpected());
        list(out, "problems", loaded.problems());
        if (loaded.problems().isEmpty()) {
            out.append("valid: every expected tensor is present with the expected shape and dtype\n");
        }
        return out.toString();
    }

    private static void count(Map<DType, long[]> byType, Tensor t) {
        long[] n = byType.computeIfAbsent(t.dtype(), k -> new long[2]);
        n[0]++;
        n[1] += t.data().byteSize();
    }

    private static void list(StringBuilder out, String title, List<String> items) {
        if (items.isEmpty()) {
            return;
        }
        out.append(title).append(": ").append(items.size()).append('\n');
        items.stream().limit(LISTED).forEach(i -> out.append("  ").append(i).append('\n'));
        if (items.size() > LISTED) {
            out.append("  ... and ").append(items.size() - LISTED).append(" more\n");
        }
    }
}
