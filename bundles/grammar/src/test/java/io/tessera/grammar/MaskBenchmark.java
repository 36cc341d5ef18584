package io.tessera.grammar;

import io.tessera.api.grammar.Grammar;
import io.tessera.api.grammar.GrammarMatcher;
import io.tessera.api.tokenizer.Tokenizer;
import io.tessera.api.tokenizer.ToolSpec;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Mask time per token on Qwen3's 151K vocabulary (not a test; {@code -Pbench}): each schema's document is
 * tokenized as a model would write it, then masked token by token — once on a fresh grammar (every state met
 * for the first time: the trie walks) and again on the warm grammar (the cached masks a recurring schema gets).
 * Prints the median, 90th percentile and max wall time in µs, the median CPU time of the thread (what the
 * mask costs when other processes share the cores), and the time to compile (the first includes the trie).
 */
public final class MaskBenchmark {
    private static final int ROUNDS = 4;

    private MaskBenchmark() {
    }

    public static void main(String[] args) {
        Tokenizer qwen3 = Vocabularies.qwen3();
        // properties in the documents' order (the grammar writes them in declared order)
        Map<String, Object> tool = Map.of("type", "object", "properties", ordered(
                "location", Map.of("type", "string"), "unit", Map.of("type", "string", "enum", List.of("celsius", "fahrenheit")),
                "days", Map.of("type", "integer", "minimum", 1, "maximum", 14)), "required", List.of("location"));
        Map<String, Object> people = Map.of("type", "object", "properties", Map.of("people", Map.of("type", "array",
                "items", Map.of("type", "object", "properties", ordered("name", Map.of("type", "string", "maxLength", 40),
                        "born", Map.of("type", "string", "format", "date"), "email", Map.of("type", "string")),
                        "required", List.of("name", "born")))), "required", List.of("people"));
        String toolDoc = "{\"location\": \"Paris, France\", \"unit\": \"celsius\", \"days\": 3}";
        String peopleDoc = "{\"people\": [{\"name\": \"Ada Lovelace\", \"born\": \"1815-12-10\", \"email\": "
                + "\"ada@example.com\"}, {\"name\": \"Alan Turing\", \"born\": \"1912-06-23\"}, {\"name\": "
                + "\"Grace Hopper\", \"born\": \"1906-12-09\", \"email\": \"grace@navy.mil\"}]}";
        String anyDoc = "{\"id\": 42, \"tags\": [\"a\", \"b\"], \"nested\": {\"ok\": true, \"ratio\": 0.75, "
                + "\"note\": \"a longer free-text value, as models write them\"}}";
        ToolSpec weather = new ToolSpec("get_weather", "", tool);
        String callDoc = "<tool_call>\n<function=get_weather>\n<parameter=location>Paris, France</parameter>\n"
                + "<parameter=unit>celsius</parameter>\n<parameter=days>3</parameter>\n</function>\n</tool_call>";
        System.out.printf("vocabulary: %d tokens; load average %.2f%n", qwen3.vocabSize(),
                ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
        // the first rounds warm the JIT (on a busy machine its compiler threads need a while), the last is printed
        for (int round = 0; round < ROUNDS; round++) {
            GrammarService compiler = new GrammarService();
            report(round, "tool arguments", qwen3, toolDoc, () -> compiler.jsonSchema(tool, qwen3, false));
            report(round, "array of objects", qwen3, peopleDoc, () -> compiler.jsonSchema(people, qwen3, false));
            report(round, "json_object", qwen3, anyDoc, () -> compiler.jsonObject(qwen3, false));
            report(round, "forced tool call", qwen3, callDoc,
                    () -> compiler.toolCalls(List.of(weather), false, qwen3, false));
        }
    }

    private static Map<String, Object> ordered(Object... keysAndValues) {
        Map<String, Object> map = new java.util.LinkedHashMap<>();
        for (int i = 0; i < keysAndValues.length; i += 2) {
            map.put((String) keysAndValues[i], keysAndValues[i + 1]);
        }
        return map;
    }

    private static void report(int round, String name, Tokenizer tokenizer, String doc,
                               java.util.function.Supplier<Grammar> compile) {
        long start = System.nanoTime();
        Grammar grammar = compile.get();
        double compileMs = (System.nanoTime() - start) / 1e6;
        int[] tokens = tokenizer.encode(doc);
        int[] bits = new int[(tokenizer.vocabSize() + 31) / 32];
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        for (String pass : new String[] {"cold", "warm"}) {
            GrammarMatcher matcher = grammar.matcher();
            long[] wall = new long[tokens.length];
            long[] cpu = new long[tokens.length];
            for (int i = 0; i < tokens.length; i++) {
                long c = threads.getCurrentThreadCpuTime();
                long s = System.nanoTime();
                matcher.fillMask(bits);
                if (!matcher.accept(tokens[i])) {
                    throw new IllegalStateException(name + ": token " + tokens[i] + " refused in " + doc);
                }
                wall[i] = System.nanoTime() - s;
                cpu[i] = threads.getCurrentThreadCpuTime() - c;
            }
            Arrays.sort(wall);
            Arrays.sort(cpu);
            if (round == ROUNDS - 1) {
                System.out.printf("%-17s %s: %3d tokens, mask+advance median %8.1f µs (CPU %7.1f), p90 %8.1f µs,"
                                + " max %9.1f µs (compile %.1f ms)%n", name, pass, wall.length,
                        wall[wall.length / 2] / 1e3, cpu[cpu.length / 2] / 1e3, wall[(int) (wall.length * 0.9)] / 1e3,
                        wall[wall.length - 1] / 1e3, compileMs);
            }
            Arrays.fill(bits, 0);
        }
    }
}
