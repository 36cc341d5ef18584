package io.tessera.engine;

import io.tessera.api.checkpoint.Checkpoint;
import io.tessera.api.checkpoint.CheckpointLoader;
import io.tessera.api.kernel.KernelBackend;
import io.tessera.api.model.AttentionFactory;
import io.tessera.api.model.DraftHead;
import io.tessera.api.model.DraftOracle;
import io.tessera.api.model.ExpertRouter;
import io.tessera.api.model.FeedForwardFactory;
import io.tessera.api.model.Generation;
import io.tessera.api.model.GenerationListener;
import io.tessera.api.model.GenerationRequest;
import io.tessera.api.model.OutputConstraint;
import io.tessera.api.model.GenerationResult;
import io.tessera.api.model.ModelArchitecture;
import io.tessera.api.model.Generator;
import io.tessera.api.model.ModelInfo;
import io.tessera.api.model.ModelMetrics;
import io.tessera.api.model.ModelRegistry;
import io.tessera.api.model.RoutingRecord;
import io.tessera.api.model.SamplingParams;
import io.tessera.api.tokenizer.TokenizerFactory;
import io.tessera.common.model.Architectures;
import io.tessera.common.osgi.RankedServices;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import org.osgi.framework.Constants;
import org.osgi.framework.ServiceReference;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.osgi.service.metatype.annotations.Designate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The engine: loads models, assembles each from the component services present (matched to its layers by
 * {@code attention.kind}, {@code router.kind} and {@code backend}), keeps their KV state and runs generations.
 * Every service reference is dynamic: a component that leaves turns its models to WAITING (naming it), and its
 * return makes them usable again without a reload. Assembly runs on the engine's own assembly thread, never on the
 * DS or ConfigAdmin thread that delivered the change, and logs its progress; the one exception is a backend in use
 * leaving, whose KV must move off it before its unbind returns (prepare-then-commit hot swap).
 */
@Component(service = {ModelRegistry.class, Generator.class}, configurationPid = "io.tessera.engine")
@Designate(ocd = EngineSettings.class)
public class Engine implements ModelRegistry, Generator {
    private static final Logger LOG = LoggerFactory.getLogger(Engine.class);
    private final Map<String, LoadedModel> models = new ConcurrentSkipListMap<>();
    private final Architectures architectures = new Architectures();
    private final RankedServices<AttentionFactory> attention = new RankedServices<>();
    private final RankedServices<ExpertRouter> routers = new RankedServices<>();
    private final Map<KernelBackend, Map<String, Object>> backends = new ConcurrentHashMap<>();
    private volatile FeedForwardFactory feedForward;
    private volatile DraftHead draftHead;
    private volatile CheckpointLoader loader;
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    private volatile TokenizerFactory tokenizers;
    private volatile EngineConfig settings = EngineConfig.DEFAULTS;
    private volatile List<String> configProblems = List.of();
    private final ExecutorService assembly = Executors.newSingleThreadExecutor(
            task -> Thread.ofPlatform().name("tessera-assembly").daemon().unstarted(task));
    private final AtomicBoolean assemblyQueued = new AtomicBoolean();

    @Activate
    void activate(Map<String, Object> properties) {
        configure(properties);
    }

    /**
     * A configuration change: batching and KV sizes apply to models loaded afterwards; the wait limit and the
     * backend preference apply at once (models move to the preferred backend). Bad values are logged, listed by
     * {@link #notices()} and not applied.
     */
    @Modified
    void modified(Map<String, Object> properties) {
        configure(properties);
        for (LoadedModel model : models.values()) {
            model.scheduler().waitLimit(settings.waitSeconds());
        }
        assembleLater();
    }

    private void configure(Map<String, Object> properties) {
        List<String> problems = new ArrayList<>();
        settings = EngineConfig.parse(properties, settings, problems);
        problems.forEach(LOG::error);
        configProblems = List.copyOf(problems);
    }

    @Deactivate
    void deactivate() {
        assembly.shutdownNow();   // a running assembly ends first: unload waits for it
        for (String name : List.copyOf(models.keySet())) {
            unload(name);
        }
    }

    // ---- service dynamics: every change re-checks the loaded models --------------------------------------------

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    void setLoader(CheckpointLoader loader) {
        this.loader = loader;
    }

    void unsetLoader(CheckpointLoader loader) {
        if (this.loader == loader) {
            this.loader = null;
        }
    }

    /** A backend arriving: models move to it when they prefer it or it ranks higher (hot swap). */
    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    void addBackend(KernelBackend backend, Map<String, Object> properties) {
        backends.put(backend, properties);
        assembleLater();
    }

    /** A backend leaving: it still works during this call, so models using it move off it with their KV. */
    void removeBackend(KernelBackend backend) {
        backends.remove(backend);
        refreshAll();
        for (LoadedModel model : models.values()) {
            model.forget(backend);
        }
    }

    /** A model family arriving or leaving: its models assemble, or wait naming {@code model.architecture}. */
    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    void addArchitecture(ModelArchitecture architecture, Map<String, Object> properties) {
        architectures.add(architecture, properties);
        assembleLater();
    }

    void removeArchitecture(ModelArchitecture architecture, Map<String, Object> properties) {
        architectures.remove(architecture, properties);
        letGo();
    }

    /** Several factories of one kind: the highest {@code service.ranking} serves, the next takes over when it goes. */
    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    void addAttention(ServiceReference<AttentionFactory> reference, AttentionFactory factory) {
        attention.add(reference, AttentionFactory.KIND, factory);
        assembleLater();
    }

    void removeAttention(ServiceReference<AttentionFactory> reference) {
        attention.remove(reference, AttentionFactory.KIND);
        letGo();
    }

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    void setFeedForward(FeedForwardFactory factory) {
        feedForward = factory;
        assembleLater();
    }

    void unsetFeedForward(FeedForwardFactory factory) {
        if (feedForward == factory) {
            feedForward = null;
        }
        letGo();
    }

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    void setDraftHead(DraftHead head) {
        draftHead = head;
        assembleLater();
    }

    void unsetDraftHead(DraftHead head) {
        if (draftHead == head) {
            draftHead = null;
        }
        letGo();
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    void addRouter(ServiceReference<ExpertRouter> reference, ExpertRouter router) {
        routers.add(reference, ExpertRouter.KIND, router);
        assembleLater();
    }

    void removeRouter(ServiceReference<ExpertRouter> reference) {
        routers.remove(reference, ExpertRouter.KIND);
        letGo();
    }

    /**
     * A service arrived or the configuration changed: the models reassemble on the assembly thread (one pass for
     * a burst of changes), so a DS or ConfigAdmin thread never waits for weights to upload.
     */
    private void assembleLater() {
        if (assemblyQueued.compareAndSet(false, true)) {
            try {
                assembly.execute(() -> {
                    assemblyQueued.set(false);
                    refreshAll();
                });
            } catch (RejectedExecutionException e) {
                assemblyQueued.set(false);   // deactivated: the models are being unloaded
            }
        }
    }

    /**
     * A component service left: models that used it free their assembly now (its bundle is stopping), and the
     * next one (e.g. the next by {@code service.ranking}) assembles on the assembly thread.
     */
    private void letGo() {
        for (LoadedModel model : models.values()) {
            model.letGo(options(model.preferredBackend()));
        }
        assembleLater();
    }

    private void refreshAll() {
        for (LoadedModel model : models.values()) {
            model.refresh(options(model.preferredBackend()), line -> LOG.info("model {}: {}", model.name(), line));
        }
    }

    /**
     * The services present now, once per registered backend in order of preference: the model's own backend,
     * then the configured one, then by {@code service.ranking}. One option without a backend when none is there.
     */
    private List<Components> options(String preferred) {
        String configured = settings.backend();
        Comparator<Map.Entry<KernelBackend, Map<String, Object>>> order = Comparator
                .comparing((Map.Entry<KernelBackend, Map<String, Object>> e) -> !name(e.getValue()).equals(preferred))
                .thenComparing(e -> !name(e.getValue()).equals(configured))
                .thenComparing(e -> -ranking(e.getValue()));
        Map<String, ModelArchitecture> families = architectures.snapshot();
        Map<String, AttentionFactory> kinds = attention.best();
        Set<String> routerKinds = routers.best().keySet();
        FeedForwardFactory mlp = feedForward;
        DraftHead head = draftHead;
        List<Components> options = backends.entrySet().stream().sorted(order)
                .map(e -> new Components(families, kinds, mlp, routerKinds, head, e.getKey())).toList();
        return options.isEmpty() ? List.of(new Components(families, kinds, mlp, routerKinds, head, null)) : options;
    }

    private static String name(Map<String, Object> properties) {
        return String.valueOf(properties.get(KernelBackend.BACKEND));
    }

    private static int ranking(Map<String, Object> properties) {
        return properties.get(Constants.SERVICE_RANKING) instanceof Integer i ? i : 0;
    }

    // ---- ModelRegistry ------------------------------------------------------------------------------------------

    @Override
    public ModelInfo load(Path directory, String name, String backend, Consumer<String> progress) throws Exception {
        Consumer<String> report = progress == null ? line -> { } : progress;
        CheckpointLoader checkpoints = loader;
        if (checkpoints == null) {
            throw new IllegalStateException("no CheckpointLoader service: is the io.tessera.checkpoint bundle active?");
        }
        String modelName = name != null ? name : directory.getFileName().toString();
        if (models.containsKey(modelName)) {
            throw new IllegalArgumentException("a model named '" + modelName + "' is already loaded");
        }
        report.accept("opening " + directory);
        Checkpoint checkpoint = checkpoints.open(directory);
        EngineConfig config = settings;
        LoadedModel model = new LoadedModel(modelName, checkpoint, backend, config, tokenizerSize(directory,
                checkpoint.config().vocabSize(), report));
        if (models.putIfAbsent(modelName, model) != null) {
            checkpoint.close();
            throw new IllegalArgumentException("a model named '" + modelName + "' is already loaded");
        }
        model.refresh(options(backend), report);
        model.scheduler().start();
        return model.info();
    }

    @Override
    public ModelInfo useBackend(String modelName, String backend, Consumer<String> progress) {
        Consumer<String> report = progress == null ? line -> { } : progress;
        LoadedModel model = model(modelName);
        KernelBackend target = backends.entrySet().stream().filter(e -> name(e.getValue()).equals(backend))
                .map(Map.Entry::getKey).findFirst().orElseThrow(() -> new IllegalArgumentException(
                        "backend: no backend named '" + backend + "' is registered (registered: " + String.join(", ",
                                backends.values().stream().map(Engine::name).sorted().toList()) + ")"));
        String previous = model.preferredBackend();
        model.prefer(backend);
        model.forget(target);
        String refused = model.refresh(options(backend), report);
        ModelInfo info = model.info();
        if (info.state() != ModelInfo.State.READY) {
            throw new IllegalStateException("model '" + modelName + "' is waiting for " + String.join(", ",
                    info.waitingFor()) + "; it moves to " + backend + " once assembled");
        }
        if (!backend.equals(info.backend())) {
            model.prefer(previous);
            throw new IllegalStateException("model '" + modelName + "' stays on backend " + info.backend()
                    + ": the swap to " + backend + " was refused (" + refused + ")");
        }
        return info;
    }

    @Override
    public List<String> notices() {
        List<String> notices = new ArrayList<>(configProblems);
        for (LoadedModel model : models.values()) {
            model.failures().forEach((backend, reason) -> notices.add("model " + model.name()
                    + ": assembly on backend " + reason));
            if (model.lastSwap() != null) {
                notices.add("model " + model.name() + ": last swap " + model.lastSwap());
            }
        }
        return notices;
    }

    /**
     * Ids a model may produce: the tokenizer's size when its tokenizer loads (embedding rows past it are padding,
     * spec §5), else every embedding row.
     */
    private int tokenizerSize(Path directory, int rows, Consumer<String> report) {
        TokenizerFactory factory = tokenizers;
        if (factory == null) {
            report.accept("no tokenizer service: every one of the " + rows + " vocabulary rows may be sampled");
            return rows;
        }
        try {
            return Math.min(rows, factory.load(directory).vocabSize());
        } catch (IOException | RuntimeException e) {
            report.accept("no tokenizer (" + e.getMessage() + "): every one of the " + rows
                    + " vocabulary rows may be sampled");
            return rows;
        }
    }

    @Override
    public List<ModelInfo> models() {
        List<ModelInfo> infos = new ArrayList<>();
        for (LoadedModel model : models.values()) {
            infos.add(model.info());
        }
        return infos;
    }

    @Override
    public Optional<ModelInfo> info(String name) {
        return Optional.ofNullable(models.get(name)).map(LoadedModel::info);
    }

    @Override
    public boolean unload(String name) {
        LoadedModel model = models.remove(name);
        if (model == null) {
            return false;
        }
        model.close();
        return true;
    }

    @Override
    public int clearPrefixCache(String name) {
        LoadedModel model = models.get(name);
        if (model == null) {
            throw new IllegalArgumentException("no model named '" + name + "' is loaded");
        }
        return model.clearPrefixCache();
    }

    // ---- Generator ----------------------------------------------------------------------------------------------

    @Override
    public Generation submit(GenerationRequest request, GenerationListener listener) {
        return submit(request, OutputConstraint.NONE, listener);
    }

    @Override
    public Generation submit(GenerationRequest request, OutputConstraint output, GenerationListener listener) {
        LoadedModel model = model(request.model());
        if (model.failure() != null) {
            throw new IllegalStateException("model '" + model.name() + "' failed (" + model.failure()
                    + "): unload it and load it again");
        }
        check(model, request.prompt(), request.maxTokens());
        int blocks = model.config().mtpLayers().size();
        if (request.draftTokens() > 3) {
            throw new IllegalArgumentException("draft_tokens: 0 to 3, got " + request.draftTokens());
        }
        if (request.logprobs() < -1 || request.logprobs() > GenerationRequest.MAX_LOGPROBS) {
            throw new IllegalArgumentException("logprobs: -1 (none) or 0 to " + GenerationRequest.MAX_LOGPROBS
                    + " alternatives, got " + request.logprobs());
        }
        int wanted = request.draftTokens() < 0 ? settings.draftTokens() : request.draftTokens();
        boolean adaptive = wanted == EngineConfig.ADAPTIVE;
        int drafts = adaptive ? blocks : Math.min(wanted, blocks);
        for (int id : output.logitBias().keySet()) {
            if (id < 0 || id >= model.vocab()) {
                throw new IllegalArgumentException("logit_bias: token id " + id + " outside [0, " + model.vocab() + ")");
            }
        }
        if (request.logprobs() >= 0 || request.sampling().penalized() || !output.logitBias().isEmpty()) {
            drafts = 0;   // these need every token's logits on the host: no speculation
        }
        checkReplay(model, request);
        checkOracle(request);
        return enqueue(model, new Sequence(request, output, Set.copyOf(request.stopTokens()), listener, null, drafts,
                adaptive, model.config().numHiddenLayers(), model.vocab()));
    }

    @Override
    public CompletionStage<Void> evaluate(String modelName, int[] tokens, LogitsConsumer consumer) {
        return evaluate(modelName, tokens, -1, consumer);
    }

    @Override
    public CompletionStage<Void> evaluate(String modelName, int[] tokens, int head, LogitsConsumer consumer) {
        LoadedModel model = model(modelName);
        check(model, tokens, 0);
        int blocks = model.config().mtpLayers().size();
        if (head < -1 || head >= blocks) {
            throw new IllegalArgumentException("head: -1 (main model) or an MTP block 0.." + (blocks - 1)
                    + ", got " + head);
        }
        if (head >= 0 && tokens.length < head + 2) {
            throw new IllegalArgumentException("tokens: MTP block " + head + " needs at least " + (head + 2));
        }
        GenerationRequest request = new GenerationRequest(modelName, tokens, 0, SamplingParams.GREEDY, Set.of(), 0,
                false, null);
        Sequence sequence = new Sequence(request, OutputConstraint.NONE, Set.of(), ids -> { }, consumer, head + 1, false,
                model.config().numHiddenLayers(), model.vocab());
        sequence.evaluationHead = head;
        Generation generation = enqueue(model, sequence);
        return generation.result().thenAccept(result -> {
            if (result.finish() != GenerationResult.Finish.STOP) {
                throw new IllegalStateException("evaluation of model '" + modelName + "' ended: " + result.finish());
            }
        });
    }

    @Override
    public List<ModelMetrics> metrics() {
        List<ModelMetrics> all = new ArrayList<>();
        for (LoadedModel model : models.values()) {
            all.add(model.scheduler().metrics());
        }
        return all;
    }

    private LoadedModel model(String name) {
        LoadedModel model = name == null ? null : models.get(name);
        if (model == null) {
            throw new IllegalArgumentException("model: no model named '" + name + "' is loaded (loaded: "
                    + String.join(", ", models.keySet()) + ")");
        }
        return model;
    }

    private static void check(LoadedModel model, int[] prompt, int maxTokens) {
        if (prompt == null || prompt.length == 0) {
            throw new IllegalArgumentException("prompt: must hold at least one token");
        }
        int vocab = model.config().vocabSize();
        for (int id : prompt) {
            if (id < 0 || id >= vocab) {
                throw new IllegalArgumentException("prompt: token id " + id + " is outside the vocabulary [0, "
                        + vocab + ")");
            }
        }
        if (maxTokens < 0) {
            throw new IllegalArgumentException("max_tokens: must be >= 0, got " + maxTokens);
        }
        if ((long) prompt.length + maxTokens > model.contextLength()) {
            throw new IllegalArgumentException("prompt: " + prompt.length + " tokens + max_tokens " + maxTokens
                    + " exceed the context length " + model.contextLength());
        }
    }

    /** A draft oracle has known tokens and a probability. */
    private static void checkOracle(GenerationRequest request) {
        DraftOracle oracle = request.draftOracle();
        if (oracle != null && (!(oracle.accuracy() >= 0) || oracle.accuracy() > 1 || oracle.tokens() == null)) {
            throw new IllegalArgumentException("draft_oracle: known tokens and an accuracy in [0, 1]");
        }
    }

    /** A routing record to replay must name existing experts, k per MoE layer, for every layer. */
    private static void checkReplay(LoadedModel model, GenerationRequest request) {
        RoutingRecord record = request.replayRouting();
        if (record == null) {
            return;
        }
        var config = model.config();
        if (record.startPosition() < 0) {
            throw new IllegalArgumentException("replay_routing: start position " + record.startPosition() + " < 0");
        }
        for (int t = 0; t < record.experts().length; t++) {
            int[][] layers = record.experts()[t];
            if (layers == null || layers.length != config.numHiddenLayers()) {
                throw new IllegalArgumentException("replay_routing: token " + t + " needs "
                        + config.numHiddenLayers() + " layers");
            }
            for (var spec : config.layers()) {
                int[] ids = layers[spec.index()];
                int want = spec.moe() ? config.expertsPerToken() : 0;
                if (ids == null || ids.length != want) {
                    throw new IllegalArgumentException("replay_routing: token " + t + ", layer " + spec.index()
                            + " needs " + want + " expert ids");
                }
                Set<Integer> seen = new HashSet<>();
                for (int id : ids) {
                    if (id < 0 || id >= config.routedExperts()) {
                        throw new IllegalArgumentException("replay_routing: token " + t + ", layer " + spec.index()
                                + ": expert " + id + " outside [0, " + config.routedExperts() + ")");
                    }
                    if (!seen.add(id)) {
                        throw new IllegalArgumentException("replay_routing: token " + t + ", layer " + spec.index()
                                + ": expert " + id + " is listed twice (a token is routed to distinct experts)");
                    }
                }
            }
        }
    }

    private static Generation enqueue(LoadedModel model, Sequence sequence) {
        if (sequence.request.maxTokens() == 0 && sequence.evaluation == null) {
            sequence.finish(GenerationResult.Finish.LENGTH);
        } else if (!model.scheduler().offer(sequence)) {
            throw new IllegalStateException("model '" + model.name() + "' has " + model.scheduler().queued()
                    + " requests waiting: try again later");
        }
        return new Generation() {
            @Override
            public void cancel() {
                model.scheduler().cancel(sequence);
            }

            @Override
            public CompletionStage<GenerationResult> result() {
                return sequence.result;
            }
        };
    }
}
