package io.tessera.examples.embedded;

import io.tessera.api.model.GenerationRequest;
import io.tessera.api.model.GenerationResult;
import io.tessera.api.model.Generator;
import io.tessera.api.model.ModelRegistry;
import io.tessera.api.model.SamplingParams;
import io.tessera.api.tokenizer.Tokenizer;
import io.tessera.api.tokenizer.TokenizerFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarFile;
import java.util.stream.Stream;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.Constants;
import org.osgi.framework.launch.Framework;
import org.osgi.framework.launch.FrameworkFactory;
import org.osgi.util.tracker.ServiceTracker;

/**
 * Tessera inside another Java program: starts a framework, installs the bundles of the "embedded" stack, loads a
 * model through {@link ModelRegistry} and generates through {@link Generator}.
 *
 * <pre>java --add-modules=jdk.incubator.vector --enable-native-access=ALL-UNNAMED -cp &lt;this jar, felix, api&gt; \
 *     io.tessera.examples.embedded.Main &lt;stack folder&gt; &lt;model folder&gt; '&lt;prompt&gt;' [max tokens]</pre>
 *
 * The api is on the program's class path and the system bundle exports it to the bundles, so the program and
 * the bundles share one {@code Generator} type; the stack's own api bundle is therefore not installed.
 */
public final class Main {
    private static final String API_BUNDLE = "io.tessera.api";

    public static void main(String[] args) throws Exception {
        if (args.length < 3) {
            System.err.println("usage: Main <stack folder> <model folder> <prompt> [max tokens]");
            System.exit(2);
        }
        int maxTokens = args.length > 3 ? Integer.parseInt(args[3]) : 32;
        Result result = generate(Path.of(args[0]), Path.of(args[1]), args[2], maxTokens);
        System.out.println(result.text());
        System.out.println("ids: " + String.join(",", Stream.of(result.ids()).map(String::valueOf).toList()));
    }

    /** What one generation gave: the new ids and their text. */
    public record Result(Integer[] ids, String text) {}

    /** Starts the stack in {@code stack}, generates greedily from {@code prompt}, stops the framework. */
    public static Result generate(Path stack, Path model, String prompt, int maxTokens) throws Exception {
        List<Path> jars = bundleJars(stack);
        Path work = Files.createTempDirectory("tessera-embedded");
        Framework framework = ServiceLoader.load(FrameworkFactory.class).findFirst().orElseThrow()
                .newFramework(frameworkProperties(jars, work));
        framework.start();
        try {
            BundleContext context = framework.getBundleContext();
            startBundles(context, jars);
            ModelRegistry registry = await(context, ModelRegistry.class);
            Generator generator = await(context, Generator.class);
            TokenizerFactory tokenizers = await(context, TokenizerFactory.class);
            registry.load(model, "embedded", null, line -> System.err.println("load: " + line));
            Tokenizer tokenizer = tokenizers.load(model);
            GenerationRequest request = new GenerationRequest("embedded", tokenizer.encode(prompt), maxTokens,
                    SamplingParams.GREEDY, Set.of(), -1, false, null);
            GenerationResult result = generator.submit(request, ids -> { }).result().toCompletableFuture()
                    .get(5, TimeUnit.MINUTES);
            Integer[] ids = new Integer[result.tokens().length];
            for (int i = 0; i < ids.length; i++) {
                ids[i] = result.tokens()[i];
            }
            return new Result(ids, tokenizer.decode(result.tokens()));
        } finally {
            framework.stop();
            framework.waitForStop(30_000);
            deleteTree(work);
        }
    }

    private static void deleteTree(Path root) throws IOException {
        try (Stream<Path> paths = Files.walk(root)) {
            for (Path path : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(path);
            }
        }
    }

    private static List<Path> bundleJars(Path stack) throws IOException {
        try (Stream<Path> files = Files.list(stack)) {
            List<Path> jars = files.filter(p -> p.toString().endsWith(".jar")).sorted().toList();
            if (jars.isEmpty()) {
                throw new IOException("no bundles in " + stack + " (build distribution/ first)");
            }
            return jars;
        }
    }

    /** The system bundle exports the Vector API and the api packages at the api bundle's own versions. */
    private static Map<String, String> frameworkProperties(List<Path> jars, Path work) throws IOException {
        String apiExports = null;
        for (Path jar : jars) {
            if (API_BUNDLE.equals(symbolicName(jar))) {
                apiExports = header(jar, Constants.EXPORT_PACKAGE);
            }
        }
        if (apiExports == null) {
            throw new IOException("the stack has no " + API_BUNDLE + " bundle to take the api versions from");
        }
        Map<String, String> properties = new HashMap<>();
        properties.put(Constants.FRAMEWORK_STORAGE, work.resolve("framework").toString());
        properties.put(Constants.FRAMEWORK_STORAGE_CLEAN, Constants.FRAMEWORK_STORAGE_CLEAN_ONFIRSTINIT);
        properties.put(Constants.FRAMEWORK_SYSTEMPACKAGES_EXTRA, "jdk.incubator.vector," + apiExports);
        // the stack holds the Gogo runtime (checkpoint and tokenizer bring commands): no console on our stdin, and an
        // empty profile (Gogo's own needs a line reader)
        Files.writeString(Files.createDirectories(work.resolve("gosh/etc")).resolve("gosh_profile"), "");
        properties.put("gosh.args", "--nointeractive --noshutdown");
        properties.put("gosh.home", work.resolve("gosh").toString());
        return properties;
    }

    /** SPI Fly and its ASM first (SLF4J's service loader mediator), then every other bundle but the api. */
    private static void startBundles(BundleContext context, List<Path> jars) throws Exception {
        List<Bundle> first = new ArrayList<>();
        List<Bundle> rest = new ArrayList<>();
        for (Path jar : jars) {
            String name = symbolicName(jar);
            if (API_BUNDLE.equals(name)) {
                continue;
            }
            Bundle bundle = context.installBundle(jar.toUri().toString());
            (name.startsWith("org.apache.aries.spifly") || name.startsWith("org.objectweb.asm") ? first : rest)
                    .add(bundle);
        }
        for (List<Bundle> group : List.of(first, rest)) {
            for (Bundle bundle : group) {
                if (bundle.getHeaders().get(Constants.FRAGMENT_HOST) == null) {
                    bundle.start();
                }
            }
        }
    }

    private static <T> T await(BundleContext context, Class<T> type) throws InterruptedException {
        ServiceTracker<T, T> tracker = new ServiceTracker<>(context, type, null);
        tracker.open();
        T service = tracker.waitForService(60_000);
        if (service == null) {
            throw new IllegalStateException("no " + type.getSimpleName() + " service after 60 s");
        }
        return service;
    }

    private static String symbolicName(Path jar) throws IOException {
        String name = header(jar, Constants.BUNDLE_SYMBOLICNAME);
        return name == null ? "" : name.split(";")[0].trim();
    }

    private static String header(Path jar, String name) throws IOException {
        try (JarFile file = new JarFile(jar.toFile())) {
            return file.getManifest().getMainAttributes().getValue(name);
        }
    }
}
