package io.tessera.itest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tessera.api.grammar.Grammar;
import io.tessera.api.grammar.GrammarCompiler;
import io.tessera.api.grammar.SchemaValidator;
import io.tessera.api.model.GenerationRequest;
import io.tessera.api.model.GenerationResult;
import io.tessera.api.model.Generator;
import io.tessera.api.model.ModelRegistry;
import io.tessera.api.model.OutputConstraint;
import io.tessera.api.model.SamplingParams;
import io.tessera.api.tokenizer.OutputParser;
import io.tessera.api.tokenizer.ToolCall;
import io.tessera.api.tokenizer.Tokenizer;
import io.tessera.api.tokenizer.TokenizerFactory;
import io.tessera.api.tokenizer.ToolSpec;
import io.tessera.common.schema.RandomSchemas;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.osgi.framework.BundleContext;
import org.osgi.test.common.annotation.InjectBundleContext;
import org.osgi.test.common.annotation.InjectService;

/**
 * Constrained decoding in the real assembly, on the random-weight fixtures and the embedded model: seeded random
 * schemas, each generated greedy with speculative drafts, sampled with drafts, and sampled on the host (with
 * log-probabilities); every output that stops parses and validates (networknt), and at least 95 % stop. Forced
 * tool calls of bounded tools parse as valid MiMo calls whose arguments validate (a single call always ends).
 */
public class StructuredOutputTest {
    private static final ObjectMapper JSON = new ObjectMapper().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
    private static final int SCHEMAS = 8;
    private static final int MAX_TOKENS = 600;

    @InjectBundleContext
    BundleContext context;

    @InjectService
    ModelRegistry registry;

    @InjectService
    Generator generator;

    @InjectService
    TokenizerFactory tokenizers;

    @InjectService
    GrammarCompiler compiler;

    @InjectService
    SchemaValidator validator;

    private List<Path> models() {
        Path repo = Path.of(context.getProperty("tessera.repo"));
        return List.of(repo.resolve("tools/fixtures/models/tiny-a"), repo.resolve("tools/fixtures/models/tiny-b"),
                repo.resolve("distribution/model"));
    }

    @Test
    void everyStoppedOutputOfARandomSchemaValidates() throws Exception {
        for (Path dir : models()) {
            String name = "structured-" + dir.getFileName();
            registry.load(dir, name, "cpu", null);
            try {
                Tokenizer tokenizer = tokenizers.load(dir);
                RandomSchemas schemas = new RandomSchemas(5);
                int stopped = 0;
                int total = 0;
                for (int i = 0; i < SCHEMAS; i++) {
                    Map<String, Object> schema = schemas.next();
                    Grammar grammar = compiler.jsonSchema(schema, tokenizer, false);
                    SamplingParams[] modes = {SamplingParams.GREEDY, new SamplingParams(1f, 0, 1f, i),
                            new SamplingParams(0.8f, 40, 0.95f, i)};
                    for (int mode = 0; mode < modes.length; mode++) {
                        GenerationResult r = generate(name, tokenizer, grammar, modes[mode], mode == 2 ? 0 : -1);
                        total++;
                        if (r.finish() == GenerationResult.Finish.STOP) {
                            stopped++;
                            String text = text(tokenizer, r);
                            Object value = JSON.readValue(text, Object.class);
                            assertEquals(List.of(), validator.validate(value, schema), dir.getFileName() + " mode "
                                    + mode + "\n" + schema + "\n" + text);
                        } else {
                            assertEquals(GenerationResult.Finish.LENGTH, r.finish());
                        }
                    }
                }
                assertTrue(stopped >= 0.95 * total, dir.getFileName() + ": " + stopped + " of " + total + " stopped");
            } finally {
                registry.unload(name);
            }
        }
    }

    @Test
    void forcedToolCallsParseAndValidate() throws Exception {
        List<ToolSpec> tools = List.of(
                new ToolSpec("get_weather", "", Map.of("type", "object", "properties", Map.of(
                        "city", Map.of("type", "string", "enum", List.of("Paris", "Oslo")),
                        "days", Map.of("type", "integer", "minimum", 1, "maximum", 7)),
                        "required", List.of("city", "days"))),
                new ToolSpec("note", "", Map.of("type", "object", "properties", Map.of(
                        "text", Map.of("type", "string", "maxLength", 12),
                        "tags", Map.of("type", "array", "maxItems", 2, "items", Map.of("type", "boolean"))),
                        "required", List.of("text"))));
        for (Path dir : models()) {
            String name = "tools-" + dir.getFileName();
            registry.load(dir, name, "cpu", null);
            try {
                Tokenizer tokenizer = tokenizers.load(dir);
                for (boolean parallel : new boolean[] {false, true}) {
                    Grammar grammar = compiler.toolCalls(tools, parallel, tokenizer, false);
                    for (int seed = 0; seed < 3; seed++) {
                        GenerationResult r = generate(name, tokenizer, grammar, new SamplingParams(1f, 0, 1f, seed), -1);
                        // one call always ends; parallel calls may go on until max_tokens cuts the last one
                        assertTrue(parallel || r.finish() == GenerationResult.Finish.STOP, dir + ": " + r.finish());
                        OutputParser parser = tokenizer.newOutputParser(tools);
                        String text = text(tokenizer, r);
                        List<ToolCall> calls = new ArrayList<>(parser.feed(text).toolCalls());
                        calls.addAll(parser.finish().toolCalls());
                        if (r.finish() == GenerationResult.Finish.LENGTH && !calls.isEmpty()) {
                            calls.removeLast();   // the one max_tokens cut
                        }
                        assertTrue(parallel ? !calls.isEmpty() || r.finish() == GenerationResult.Finish.LENGTH
                                : calls.size() == 1, text);
                        for (ToolCall call : calls) {
                            assertNull(call.error(), text);
                            Map<String, Object> schema = tools.stream().filter(t -> t.name().equals(call.name()))
                                    .findFirst().orElseThrow().parameters();
                            assertEquals(List.of(), validator.validate(call.arguments(), schema), text);
                        }
                    }
                }
            } finally {
                registry.unload(name);
            }
        }
    }

    private GenerationResult generate(String model, Tokenizer tokenizer, Grammar grammar, SamplingParams sampling,
                                      int logprobs) throws Exception {
        GenerationRequest request = new GenerationRequest(model, tokenizer.encode("Answer: "), MAX_TOKENS, sampling,
                tokenizer.stopTokens(), -1, false, null, logprobs);
        return generator.submit(request, new OutputConstraint(grammar, Map.of()), ids -> { })
                .result().toCompletableFuture().get(300, TimeUnit.SECONDS);
    }

    /** The output without its stop token. */
    private static String text(Tokenizer tokenizer, GenerationResult r) {
        int[] tokens = r.tokens();
        int n = tokens.length > 0 && tokenizer.stopTokens().contains(tokens[tokens.length - 1]) ? tokens.length - 1
                : tokens.length;
        return tokenizer.decode(Arrays.copyOf(tokens, n));
    }
}
