package io.tessera.itest;

import io.tessera.api.model.Generation;
import io.tessera.api.model.GenerationListener;
import io.tessera.api.model.GenerationRequest;
import io.tessera.api.model.GenerationResult;
import io.tessera.api.model.GenerationStats;
import io.tessera.api.model.Generator;
import io.tessera.api.model.ModelInfo;
import io.tessera.api.model.ModelMetrics;
import io.tessera.api.model.ModelRegistry;
import io.tessera.api.model.OutputConstraint;
import io.tessera.api.tokenizer.Tokenizer;
import io.tessera.api.tokenizer.TokenizerFactory;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Consumer;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Reference;

/**
 * Test double for the HTTP tests: the engine's registry and generator, plus one model, {@code echo}, whose
 * "output" is the text after the last {@code REPLY:} of its prompt (up to the end of that message), tokenized by
 * the real tokenizer and streamed token by token. The fixture models' weights are random, so this is how a test
 * makes a model say a given tool call and checks that the server parses, validates and reports it. Every other
 * model goes to the real engine. Only while configured (PID {@code io.tessera.itest.echo}: {@code directory}, the
 * tokenizer's folder); registered with {@code tessera.echo=true} and a low ranking so nothing binds it by chance.
 */
@Component(configurationPid = "io.tessera.itest.echo", configurationPolicy = ConfigurationPolicy.REQUIRE,
        service = {ModelRegistry.class, Generator.class},
        property = {"tessera.echo=true", "service.ranking:Integer=-100"})
public class EchoModel implements ModelRegistry, Generator {
    static final String NAME = "echo";
    private static final String MARK = "REPLY:";
    private final ModelRegistry registry;
    private final Generator generator;
    private final Tokenizer tokenizer;
    private final Path directory;

    @interface Config {
        String directory();
    }

    @Activate
    public EchoModel(@Reference(target = "(component.name=io.tessera.engine.Engine)") ModelRegistry registry,
                     @Reference(target = "(component.name=io.tessera.engine.Engine)") Generator generator,
                     @Reference TokenizerFactory tokenizers, Config config) throws Exception {
        this.registry = registry;
        this.generator = generator;
        this.directory = Path.of(config.directory());
        this.tokenizer = tokenizers.load(directory);
    }

    private ModelInfo info() {
        return new ModelInfo(NAME, directory, ModelInfo.State.READY, "echo", List.of(), List.of(), Map.of());
    }

    @Override
    public ModelInfo load(Path dir, String name, String backend, Consumer<String> progress) throws Exception {
        return registry.load(dir, name, backend, progress);
    }

    @Override
    public List<ModelInfo> models() {
        List<ModelInfo> all = new ArrayList<>(registry.models());
        all.add(info());
        return all;
    }

    @Override
    public Optional<ModelInfo> info(String name) {
        return NAME.equals(name) ? Optional.of(info()) : registry.info(name);
    }

    @Override
    public boolean unload(String name) {
        return registry.unload(name);
    }

    /** The echo model answers the text it is given, whatever the constraint; other models get it. */
    @Override
    public Generation submit(GenerationRequest request, OutputConstraint constraint, GenerationListener listener) {
        return NAME.equals(request.model()) ? submit(request, listener)
                : generator.submit(request, constraint, listener);
    }

    @Override
    public Generation submit(GenerationRequest request, GenerationListener listener) {
        if (!NAME.equals(request.model())) {
            return generator.submit(request, listener);
        }
        String prompt = tokenizer.decode(request.prompt());
        int at = prompt.lastIndexOf(MARK);
        int end = prompt.indexOf("<|im_end|>", Math.max(at, 0));
        String reply = at < 0 ? "" : prompt.substring(at + MARK.length(), end < 0 ? prompt.length() : end);
        int[] ids = tokenizer.encode(reply);
        int n = Math.min(ids.length, request.maxTokens());
        CompletableFuture<GenerationResult> result = CompletableFuture.supplyAsync(() -> {
            for (int i = 0; i < n; i++) {
                listener.onToken(ids[i], null);
            }
            return new GenerationResult(Arrays.copyOf(ids, n), n < ids.length ? GenerationResult.Finish.LENGTH
                    : GenerationResult.Finish.STOP, request.prompt().length,
                    new GenerationStats(0, 0, 0, new long[0], new long[0], 0, 0), null);
        });
        return new Generation() {
            @Override
            public void cancel() {
            }

            @Override
            public CompletionStage<GenerationResult> result() {
                return result;
            }
        };
    }

    @Override
    public CompletionStage<Void> evaluate(String model, int[] tokens, LogitsConsumer consumer) {
        return generator.evaluate(model, tokens, consumer);
    }

    @Override
    public CompletionStage<Void> evaluate(String model, int[] tokens, int head, LogitsConsumer consumer) {
        return generator.evaluate(model, tokens, head, consumer);
    }

    @Override
    public List<ModelMetrics> metrics() {
        return generator.metrics();
    }
}
