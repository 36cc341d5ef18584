package io.tessera.shell;

import java.util.Arrays;
import java.nio.file.Path;
import java.io.IOException;
import io.tessera.api.model.Generation;
import io.tessera.api.model.GenerationRequest;
import io.tessera.api.model.GenerationResult;
import io.tessera.api.model.GenerationStats;
import io.tessera.api.model.Generator;
import io.tessera.api.model.ModelRegistry;
import io.tessera.api.model.SamplingParams;
import io.tessera.api.tokenizer.IncrementalDecoder;
import io.tessera.api.tokenizer.Tokenizer;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.StringJoiner;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.apache.felix.service.command.CommandSession;
import org.apache.felix.service.command.Descriptor;
import org.apache.felix.service.command.Parameter;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

/** {@code generate}: streams a completion to the console and ends with prompt and decode speed. */
@Component(service = GenerateCommand.class, property = {"osgi.command.scope=tessera",
        "osgi.command.function=generate"})
public class GenerateCommand {
    private final ModelRegistry registry;
    private final ModelChoice choice;
    private final Generator generator;
    private final Tokenizers tokenizers;

    @Activate
    public GenerateCommand(@Reference ModelRegistry registry, @Reference ModelChoice choice,
                           @Reference Generator generator, @Reference Tokenizers tokenizers) {
        this.registry = registry;
        this.choice = choice;
        this.generator = generator;
        this.tokenizers = tokenizers;
    }

    @Descriptor("generate a continuation of a prompt, streamed as it is produced")
    public void generate(CommandSession session,
                         @Descriptor("model (default: the only loaded one)") @Parameter(names = {"-m", "--model"},
                                 absentValue = "") String model,
                         @Descriptor("most new tokens") @Parameter(names = {"-n", "--max-tokens"},
                                 absentValue = "128") int maxTokens,
                         @Descriptor("sampling temperature; 0 is greedy") @Parameter(names = {"-t", "--temperature"},
                                 absentValue = "0") float temperature,
                         @Descriptor("nucleus sampling mass") @Parameter(names = {"--top-p"}, absentValue = "1")
                         float topP,
                         @Descriptor("sample among the k most likely; 0 for all") @Parameter(names = {"--top-k"},
                                 absentValue = "0") int topK,
                         @Descriptor("random seed") @Parameter(names = {"-s", "--seed"}, absentValue = "0") long seed,
                         @Descriptor("speculative draft tokens per step, 0-3 (default: every MTP head the model has)")
                         @Parameter(names = {"-d", "--drafts"}, absentValue = "-1") int drafts,
                         @Descriptor("prompt as token ids, e.g. 1,2,3 (instead of text)")
                         @Parameter(names = {"--ids"}, absentValue = "") String ids,
                         @Descriptor("then run the same generation without drafts and print the speculative speedup")
                         @Parameter(names = {"--compare"}, presentValue = "true", absentValue = "false")
                         boolean compare,
                         @Descriptor("also print the generated token ids")
                         @Parameter(names = {"--print-ids"}, presentValue = "true", absentValue = "false")
                         boolean printIds,
                         @Descriptor("prompt text (ignored with --ids)") String... prompt) throws Exception {
        PrintStream out = session.getConsole();
        String name = choice.pick(model);
        Tokenizer tokenizer;
        try {
            tokenizer = tokenizers.forModel(directory(name));
        } catch (IOException | RuntimeException e) {
            if (ids.isEmpty()) {
                throw e;   // text needs the tokenizer; ids alone do not
            }
            out.println("(no tokenizer: " + e.getMessage() + "; printing ids)");
            tokenizer = null;
        }
        int[] tokens = ids.isEmpty() ? tokenizer.encodeWithSpecialTokens(String.join(" ", prompt))
                : Models.parseIds(ids);
        Set<Integer> stop = tokenizer == null ? Set.of() : tokenizer.stopTokens();
        LinkedBlockingQueue<int[]> stream = new LinkedBlockingQueue<>();
        long start = System.nanoTime();
        Generation generation = generator.submit(new GenerationRequest(name, tokens, maxTokens,
                new SamplingParams(temperature, topK, topP, seed), stop, drafts, false, null), stream::add);
        CompletableFuture<GenerationResult> done = generation.result().toCompletableFuture();
        IncrementalDecoder decoder = tokenizer == null ? null : tokenizer.newDecoder();
        List<Integer> generated = new ArrayList<>();
        try {
            while (!done.isDone() || !stream.isEmpty()) {
                int[] next = stream.poll(50, TimeUnit.MILLISECONDS);
                if (next == null) {
                    continue;
                }
                for (int id : next) {
                    generated.add(id);
                    if (decoder != null && !stop.contains(id)) {
                        out.print(decoder.next(id));
                    }
                }
                out.flush();
            }
        } catch (InterruptedException e) {
            generation.cancel();
            Thread.currentThread().interrupt();
        }
        if (decoder != null) {
            out.println(decoder.flush());
        }
        GenerationResult result = done.get();
        if (printIds || decoder == null) {
            StringJoiner joined = new StringJoiner(",");
            generated.forEach(id -> joined.add(String.valueOf(id)));
            out.println("ids: " + joined);
        }
        double prefill = result.stats().prefillNanos() / 1e9;
        double decode = result.stats().decodeNanos() / 1e9;
        int decoded = Math.max(0, result.tokens().length - 1);   // the first token comes with the prefill
        out.printf("[%s: prompt %d tokens, %.1f tok/s; generated %d tokens, %.1f tok/s; %.2f s]%n",
                result.finish().name().toLowerCase(), tokens.length, tokens.length / Math.max(prefill, 1e-9),
                result.tokens().length, decoded / Math.max(decode, 1e-9), (System.nanoTime() - start) / 1e9);
        GenerationStats stats = result.stats();
        if (stats.proposedPerHead().length > 0 && stats.verifySteps() > 0) {
            StringJoiner heads = new StringJoiner(", ");
            for (int k = 0; k < stats.proposedPerHead().length; k++) {
                heads.add(String.format("head %d %.0f%%", k, 100.0 * stats.acceptedPerHead()[k]
                        / Math.max(1, stats.proposedPerHead()[k])));
            }
            out.printf("[speculative: acceptance length %.2f tokens/step over %d steps; %s; draft %.2f s, verify %.2f s; %s]%n",
                    stats.acceptanceLength(result.tokens().length), stats.verifySteps(), heads,
                    stats.draftNanos() / 1e9, stats.verifyNanos() / 1e9, DraftHistogram.line(stats.draftSteps()));
            if (compare && decoded > 0) {
                GenerationResult plain = generator.submit(new GenerationRequest(name, tokens, maxTokens,
                        new SamplingParams(temperature, topK, topP, seed), stop, 0, false, null), none -> { })
                        .result().toCompletableFuture().get();
                double plainRate = Math.max(0, plain.tokens().length - 1)
                        / Math.max(plain.stats().decodeNanos() / 1e9, 1e-9);
                double rate = decoded / Math.max(decode, 1e-9);
                out.printf("[without drafts: %d tokens, %.1f tok/s; speculative speedup %.2fx%s]%n",
                        plain.tokens().length, plainRate, rate / plainRate,
                        Arrays.equals(plain.tokens(), result.tokens()) ? ", identical tokens" : "");
            }
        }
    }

    private Path directory(String model) {
        return registry.info(model).orElseThrow(() -> new IllegalArgumentException("no model named '" + model
                + "' is loaded")).directory();
    }
}
