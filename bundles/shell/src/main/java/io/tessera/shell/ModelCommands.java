package io.tessera.shell;

import io.tessera.api.checkpoint.CheckpointLoader;
import io.tessera.api.checkpoint.LayerSpec;
import io.tessera.api.checkpoint.ModelConfig;
import io.tessera.api.model.Generator;
import io.tessera.api.model.ModelInfo;
import io.tessera.api.model.ModelRegistry;
import io.tessera.api.tokenizer.Tokenizer;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.apache.felix.service.command.CommandSession;
import org.apache.felix.service.command.Descriptor;
import org.apache.felix.service.command.Parameter;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;

/** {@code model:*} commands: load, list, info, unload, perplexity, eval, names. */
@Component(service = ModelCommands.class, property = {"osgi.command.scope=model",
        "osgi.command.function=load", "osgi.command.function=list", "osgi.command.function=info",
        "osgi.command.function=unload", "osgi.command.function=perplexity", "osgi.command.function=eval",
        "osgi.command.function=names", "osgi.command.function=clearcache"})
public class ModelCommands {
    private final ModelRegistry registry;
    private final ModelChoice choice;
    private final Generator generator;
    private final Tokenizers tokenizers;
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    private volatile CheckpointLoader checkpoints;

    @Activate
    public ModelCommands(@Reference ModelRegistry registry, @Reference ModelChoice choice,
                         @Reference Generator generator, @Reference Tokenizers tokenizers) {
        this.registry = registry;
        this.choice = choice;
        this.generator = generator;
        this.tokenizers = tokenizers;
    }

    @Descriptor("load a checkpoint directory and assemble the model from the installed components")
    public void load(CommandSession session,
                     @Descriptor("model name (default: the directory's name)") @Parameter(names = {"-n", "--name"},
                             absentValue = "") String name,
                     @Descriptor("backend to use, e.g. cpu (default: the highest-ranked)")
                     @Parameter(names = {"-b", "--backend"}, absentValue = "") String backend,
                     @Descriptor("checkpoint directory") String directory) throws Exception {
        PrintStream out = session.getConsole();
        long start = System.nanoTime();
        ModelInfo info = registry.load(Path.of(directory).toAbsolutePath(), name.isEmpty() ? null : name,
                backend.isEmpty() ? null : backend, line -> out.println("  " + line));
        out.printf("loaded %s in %.2f s: %s%n", info.name(), (System.nanoTime() - start) / 1e9, state(info));
    }

    @Descriptor("list loaded models")
    public void list(CommandSession session) {
        PrintStream out = session.getConsole();
        List<ModelInfo> models = registry.models();
        if (models.isEmpty()) {
            out.println("no model loaded (model:load <dir>)");
        }
        for (ModelInfo info : models) {
            out.printf("%-20s %-10s %s%n", info.name(), info.backend() == null ? "-" : info.backend(), state(info));
        }
        for (String notice : registry.notices()) {
            out.println("! " + notice);
        }
    }

    @Descriptor("show a loaded model (components per layer, memory, what it waits for), or the KV memory plan of a"
            + " config.json or checkpoint directory")
    public void info(CommandSession session,
                     @Descriptor("context length for the KV plan") @Parameter(names = {"-c", "--context"},
                             absentValue = "0") int context,
                     @Descriptor("rows per step (prefill chunk) for the sliding-window ring")
                     @Parameter(names = {"-r", "--rows"}, absentValue = "64") int rows,
                     @Descriptor("loaded model name, config.json, or checkpoint directory") String model)
            throws Exception {
        PrintStream out = session.getConsole();
        var loaded = registry.info(model);
        if (loaded.isPresent()) {
            ModelInfo info = loaded.get();
            out.printf("%s (%s): %s, backend %s%n", info.name(), info.directory(), state(info),
                    info.backend() == null ? "-" : info.backend());
            info.components().forEach(line -> out.println("  layer " + line));
            info.memory().forEach((kind, bytes) -> out.printf("  memory %-8s %s%n", kind, bytes(bytes)));
            return;
        }
        Path path = Path.of(model);
        Path config = Files.isDirectory(path) ? path.resolve("config.json") : path;
        if (!Files.isRegularFile(config)) {
            throw new IllegalArgumentException("no loaded model named '" + model + "' and no config.json at "
                    + config);
        }
        CheckpointLoader loader = checkpoints;
        if (loader == null) {
            throw new IllegalStateException("no CheckpointLoader service: is the io.tessera.checkpoint bundle active?");
        }
        kvPlan(out, loader.readConfig(config), context > 0 ? context : -1, rows);
    }

    /**
     * KV bytes per sequence at a context length: a global layer keeps every position, a sliding layer a ring of
     * window − 1 + rows slots (F32 K and V, as the CPU backend stores them).
     */
    static void kvPlan(PrintStream out, ModelConfig config, int context, int rows) {
        int ctx = context > 0 ? context : config.maxPositionEmbeddings();
        long global = 0;
        long sliding = 0;
        for (LayerSpec spec : config.layers()) {
            long perSlot = 4L * spec.kvHeads() * (spec.headDim() + spec.valueHeadDim());
            if (spec.window() == 0) {
                global += perSlot * ctx;
            } else {
                sliding += perSlot * Math.min(ctx, spec.window() - 1 + rows);
            }
        }
        long ga = config.layers().stream().filter(s -> s.window() == 0).count();
        out.printf("KV plan for one sequence of %d tokens (F32 K and V; BF16 halves it):%n", ctx);
        out.printf("  %2d global layers:          %s (grows with the context)%n", ga, bytes(global));
        out.printf("  %2d sliding-window layers:  %s (ring of window-1+%d slots, bounded)%n",
                config.layers().size() - ga, bytes(sliding), rows);
        out.printf("  total:                     %s%n", bytes(global + sliding));
    }

    @Descriptor("names of the loaded models (for completion)")
    public List<String> names() {
        return registry.models().stream().map(ModelInfo::name).toList();
    }

    @Descriptor("unload a model and free its memory")
    public void unload(CommandSession session, @Descriptor("model name") String name) {
        choice.unloaded();
        if (!registry.unload(name)) {
            throw new IllegalArgumentException("no model named '" + name + "' is loaded");
        }
        session.getConsole().println("unloaded " + name);
    }

    @Descriptor("empty a model's prefix cache (the KV blocks no generation holds)")
    public void clearcache(CommandSession session, @Descriptor("model name") String name) {
        int blocks = registry.clearPrefixCache(name);
        session.getConsole().println("cleared the prefix cache of " + name + ": " + blocks + " blocks");
    }

    @Descriptor("mean negative log-likelihood and perplexity of a text (or token-id) file, in chunks")
    public void perplexity(CommandSession session,
                           @Descriptor("model (default: the only loaded one)") @Parameter(names = {"-m", "--model"},
                                   absentValue = "") String model,
                           @Descriptor("the file holds token ids (comma or space separated), not text")
                           @Parameter(names = {"--ids"}, presentValue = "true", absentValue = "false") boolean ids,
                           @Descriptor("tokens per chunk") @Parameter(names = {"-c", "--chunk"}, absentValue = "512")
                           int chunk,
                           @Descriptor("text or id file") String file) throws Exception {
        PrintStream out = session.getConsole();
        String name = choice.pick(model);
        String content = Files.readString(Path.of(file));
        int[] tokens = ids ? Models.parseIds(content) : tokenizer(name).encode(content);
        double nll = 0;
        long count = 0;
        for (int start = 0; start + 1 < tokens.length; start += chunk) {
            int[] piece = Arrays.copyOfRange(tokens, start, Math.min(tokens.length, start + chunk));
            double[] sum = new double[1];
            generator.evaluate(name, piece, (position, logits) -> {
                if (position + 1 < piece.length) {
                    sum[0] -= Models.logSoftmax(logits, piece[position + 1]);
                }
            }).toCompletableFuture().get();
            nll += sum[0];
            count += piece.length - 1;
            out.printf("  %d/%d tokens, running perplexity %.4f%n", Math.min(tokens.length, start + chunk),
                    tokens.length, Math.exp(nll / count));
        }
        if (count == 0) {
            throw new IllegalArgumentException(file + ": needs at least 2 tokens, has " + tokens.length);
        }
        out.printf("tokens %d, mean NLL %.6f, perplexity %.4f%n", count, nll / count, Math.exp(nll / count));
    }

    @Descriptor("write the logits at every position of a prompt to a float32 .npy [positions, vocab]")
    public void eval(CommandSession session,
                     @Descriptor("model (default: the only loaded one)") @Parameter(names = {"-m", "--model"},
                             absentValue = "") String model,
                     @Descriptor("prompt as token ids, e.g. 1,2,3 (instead of text)")
                     @Parameter(names = {"--ids"}, absentValue = "") String ids,
                     @Descriptor("output .npy file") @Parameter(names = {"-o", "--out"}, absentValue = "logits.npy")
                     String file,
                     @Descriptor("MTP block k instead of the main model: its logits at position i predict token i+k+2")
                     @Parameter(names = {"--head"}, absentValue = "-1") int head,
                     @Descriptor("prompt text (ignored with --ids)") String... prompt) throws Exception {
        String name = choice.pick(model);
        int[] tokens = ids.isEmpty() ? tokenizer(name).encode(String.join(" ", prompt)) : Models.parseIds(ids);
        int positions = head < 0 ? tokens.length : tokens.length - head - 1;
        Npy[] npy = new Npy[1];   // opened at the first row, when the vocabulary size is known
        try {
            generator.evaluate(name, tokens, head, (position, logits) -> {
                try {
                    if (npy[0] == null) {
                        npy[0] = new Npy(Files.newOutputStream(Path.of(file)), positions, logits.length);
                    }
                    npy[0].writeRow(logits);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }).toCompletableFuture().get();
        } finally {
            if (npy[0] != null) {
                npy[0].close();
            }
        }
        session.getConsole().printf("wrote %s: %d positions of logits%n", file, positions);
    }

    private Tokenizer tokenizer(String model) throws IOException {
        return tokenizers.forModel(registry.info(model).orElseThrow().directory());
    }

    private static String state(ModelInfo info) {
        return switch (info.state()) {
            case READY -> "ready";
            case WAITING -> "waiting for " + String.join(", ", info.waitingFor());
            case FAILED -> "failed: " + String.join(", ", info.waitingFor()) + " (unload it and load it again)";
        };
    }

    static String bytes(long n) {
        return n >= 1L << 30 ? String.format("%.2f GiB", n / (double) (1L << 30))
                : n >= 1L << 20 ? String.format("%.2f MiB", n / (double) (1L << 20))
                : String.format("%.1f KiB", n / 1024.0);
    }
}
