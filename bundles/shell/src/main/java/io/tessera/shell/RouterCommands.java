package io.tessera.shell;

import io.tessera.api.model.GenerationRequest;
import io.tessera.api.model.GenerationResult;
import io.tessera.api.model.ModelRegistry;
import io.tessera.api.model.Generator;
import io.tessera.api.model.RoutingRecord;
import io.tessera.api.model.SamplingParams;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.StringJoiner;
import java.util.stream.Collectors;
import org.apache.felix.service.command.CommandSession;
import org.apache.felix.service.command.Descriptor;
import org.apache.felix.service.command.Parameter;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

/**
 * {@code router:trace}: the experts the MoE router picks for each position of a greedy generation — shown, recorded
 * to a file, or replayed from one (routing replay, R3: the same experts are forced, and the tokens must come out as
 * recorded).
 */
@Component(service = RouterCommands.class, property = {"osgi.command.scope=router", "osgi.command.function=trace"})
public class RouterCommands {
    static final String HEADER = "# tessera routing record";

    private final ModelChoice choice;
    private final Generator generator;
    private final Tokenizers tokenizers;
    private final ModelRegistry registry;

    @Activate
    public RouterCommands(@Reference ModelRegistry registry, @Reference ModelChoice choice,
                          @Reference Generator generator, @Reference Tokenizers tokenizers) {
        this.registry = registry;
        this.choice = choice;
        this.generator = generator;
        this.tokenizers = tokenizers;
    }

    @Descriptor("show the experts routed at each position of a greedy generation; record them to a file, or replay "
            + "a recorded file (forcing its experts) and check the tokens come out as recorded")
    public void trace(CommandSession session,
                      @Descriptor("model (default: the only loaded one)") @Parameter(names = {"-m", "--model"},
                              absentValue = "") String model,
                      @Descriptor("most new tokens") @Parameter(names = {"-n", "--max-tokens"}, absentValue = "8")
                      int maxTokens,
                      @Descriptor("prompt as token ids, e.g. 1,2,3 (instead of text)")
                      @Parameter(names = {"--ids"}, absentValue = "") String ids,
                      @Descriptor("write the routing record to this file")
                      @Parameter(names = {"-o", "--record"}, absentValue = "") String record,
                      @Descriptor("replay the routing record in this file (its prompt and length)")
                      @Parameter(names = {"-r", "--replay"}, absentValue = "") String replay,
                      @Descriptor("print only the summary, not every position")
                      @Parameter(names = {"-q", "--quiet"}, presentValue = "true", absentValue = "false")
                      boolean quiet,
                      @Descriptor("prompt text (ignored with --ids or --replay)") String... prompt) throws Exception {
        PrintStream out = session.getConsole();
        String name = choice.pick(model);
        Trace recorded = replay.isEmpty() ? null : Trace.read(Path.of(replay));
        int[] tokens = recorded != null ? recorded.prompt()
                : !ids.isEmpty() ? Models.parseIds(ids)
                : tokenizers.forModel(registry.info(name).orElseThrow().directory()).encode(String.join(" ", prompt));
        int length = recorded != null ? recorded.generated().length : maxTokens;
        GenerationResult result = generator.submit(new GenerationRequest(name, tokens, length, SamplingParams.GREEDY,
                Set.of(), 0, true, recorded == null ? null : recorded.routing()), none -> { }).result()
                .toCompletableFuture().get();
        if (result.finish() == GenerationResult.Finish.ERROR || result.routing() == null) {
            throw new IllegalStateException("generation on model '" + name + "' ended with " + result.finish());
        }
        Trace trace = new Trace(tokens, result.tokens(), result.routing());
        if (!quiet) {
            trace.print(out);
        }
        out.printf("%d prompt + %d generated tokens, experts of %d positions%n", tokens.length,
                result.tokens().length, result.routing().experts().length);
        if (!record.isEmpty()) {
            Files.writeString(Path.of(record), trace.format());
            out.println("recorded to " + record);
        }
        if (recorded != null) {
            int differs = firstDifference(recorded.generated(), result.tokens());
            out.println(differs < 0 ? "replayed " + replay + ": tokens identical to the record"
                    : "replayed " + replay + ": tokens differ from the record at generated token " + differs);
        }
    }

    private static int firstDifference(int[] a, int[] b) {
        int n = Math.min(a.length, b.length);
        for (int i = 0; i < n; i++) {
            if (a[i] != b[i]) {
                return i;
            }
        }
        return a.length == b.length ? -1 : n;
    }

    /** A prompt, the tokens generated from it and the routing of every position run. */
    record Trace(int[] prompt, int[] generated, RoutingRecord routing) {
        void print(PrintStream out) {
            int[][][] experts = routing.experts();
            for (int p = 0; p < experts.length; p++) {
                int position = routing.startPosition() + p;
                int token = position < prompt.length ? prompt[position] : generated[position - prompt.length];
                StringJoiner layers = new StringJoiner("  ");
                for (int l = 0; l < experts[p].length; l++) {
                    if (experts[p][l].length > 0) {
                        layers.add("L" + l + " " + join(experts[p][l]));
                    }
                }
                out.printf("  %5d %7d  %s%n", position, token, layers);
            }
        }

        /** The file form: a header, prompt and generated ids, then one line per position of layer=experts. */
        String format() {
            StringBuilder text = new StringBuilder(HEADER + ": prompt, generated ids, then per position the experts"
                    + " of each layer (empty for dense layers)\n");
            text.append("prompt ").append(join(prompt)).append('\n');
            text.append("generated ").append(join(generated)).append('\n');
            text.append("start ").append(routing.startPosition()).append('\n');
            for (int[][] position : routing.experts()) {
                text.append(Arrays.stream(position).map(RouterCommands::join).collect(Collectors.joining(";")))
                        .append('\n');
            }
            return text.toString();
        }

        static Trace read(Path file) throws IOException {
            List<String> lines = Files.readAllLines(file);
            if (lines.size() < 4 || !lines.get(0).startsWith(HEADER)) {
                throw new IllegalArgumentException(file + ": not a routing record (first line should start with '"
                        + HEADER + "')");
            }
            int[] prompt = Models.parseIds(field(file, lines.get(1), "prompt"));
            String generated = field(file, lines.get(2), "generated");
            int start = Integer.parseInt(field(file, lines.get(3), "start").trim());
            List<int[][]> positions = new ArrayList<>();
            for (String line : lines.subList(4, lines.size())) {
                positions.add(Arrays.stream(line.split(";", -1))
                        .map(ids -> ids.isBlank() ? new int[0] : Models.parseIds(ids)).toArray(int[][]::new));
            }
            return new Trace(prompt, generated.isBlank() ? new int[0] : Models.parseIds(generated),
                    new RoutingRecord(start, positions.toArray(int[][][]::new)));
        }

        private static String field(Path file, String line, String name) {
            if (!line.startsWith(name + " ") && !line.equals(name)) {
                throw new IllegalArgumentException(file + ": expected a line '" + name + " ...', got '" + line + "'");
            }
            return line.substring(name.length()).trim();
        }
    }

    static String join(int[] ids) {
        return Arrays.stream(ids).mapToObj(String::valueOf).collect(Collectors.joining(","));
    }
}
