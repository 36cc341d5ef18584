package io.tessera.itest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.Constants;
import org.osgi.framework.wiring.BundleRequirement;
import org.osgi.framework.wiring.BundleWiring;
import org.osgi.framework.namespace.PackageNamespace;
import org.osgi.test.common.annotation.InjectBundleContext;

/**
 * The import ranges bnd derives from {@code @ProviderType}/{@code @ConsumerType}: a bundle that implements a
 * provider type of an api package accepts only that package's minor line ({@code [0.2,0.3)} for a package at
 * 0.2), so an api with a new method is never wired to an implementation that lacks it; a bundle that only calls
 * the package accepts every compatible version ({@code [0.2,1)}). Kernel, model, tokenizer and checkpoint are at
 * 0.2 (model families; structured outputs: maskLogits, OutputConstraint, tokenBytes), grammar at 0.1.
 */
public class ApiImportRangesTest {

    @InjectBundleContext
    BundleContext context;

    @Test
    void backendsImportTheKernelPackageAsProviders() {
        for (String backend : new String[] {"io.tessera.kernels-cpu", "io.tessera.kernels-cuda",
                "io.tessera.kernels-reference"}) {
            assertEquals("[0.2.0,0.3.0)", importRange(backend, "io.tessera.api.kernel"), backend);
        }
    }

    @Test
    void componentProvidersImportTheModelPackageAsProviders() {
        for (String provider : new String[] {"io.tessera.engine", "io.tessera.moe", "io.tessera.mtp",
                "io.tessera.attention-global", "io.tessera.attention-sliding", "io.tessera.family-mimo",
                "io.tessera.family-qwen3", "io.tessera.family-llama"}) {
            assertEquals("[0.2.0,0.3.0)", importRange(provider, "io.tessera.api.model"), provider);
        }
        assertEquals("[0.2.0,0.3.0)", importRange("io.tessera.tokenizer", "io.tessera.api.tokenizer"));
        assertEquals("[0.1.0,0.2.0)", importRange("io.tessera.grammar", "io.tessera.api.grammar"));
        assertEquals("[0.2.0,0.3.0)", importRange("io.tessera.checkpoint", "io.tessera.api.checkpoint"));
    }

    @Test
    void callersImportAsConsumers() {
        // the engine calls backends; the shell and the HTTP API call the engine and implement only listeners
        assertEquals("[0.2.0,1.0.0)", importRange("io.tessera.engine", "io.tessera.api.kernel"));
        assertEquals("[0.2.0,1.0.0)", importRange("io.tessera.shell", "io.tessera.api.model"));
        assertEquals("[0.2.0,1.0.0)", importRange("io.tessera.http", "io.tessera.api.model"));
        assertEquals("[0.1.0,1.0.0)", importRange("io.tessera.http", "io.tessera.api.grammar"));
    }

    /** The version range of the bundle's wired import of the package, as the framework parsed it. */
    private String importRange(String bsn, String pkg) {
        Bundle bundle = Arrays.stream(context.getBundles()).filter(b -> bsn.equals(b.getSymbolicName()))
                .findFirst().orElse(null);
        assertNotNull(bundle, bsn + " is not installed");
        BundleWiring wiring = bundle.adapt(BundleWiring.class);
        assertNotNull(wiring, bsn + " is not resolved");
        for (BundleRequirement requirement : wiring.getRequirements(PackageNamespace.PACKAGE_NAMESPACE)) {
            String filter = requirement.getDirectives().get(Constants.FILTER_DIRECTIVE);
            if (filter.contains("(" + PackageNamespace.PACKAGE_NAMESPACE + "=" + pkg + ")")) {
                return rangeOf(filter);
            }
        }
        return bsn + " does not import " + pkg;
    }

    /** {@code (&(osgi.wiring.package=p)(version>=0.1.0)(!(version>=0.2.0)))} → {@code [0.1.0,0.2.0)}. */
    private static String rangeOf(String filter) {
        String low = between(filter, "(version>=", ")");
        String high = between(filter, "(!(version>=", ")");
        return "[" + low + "," + high + ")";
    }

    private static String between(String text, String start, String end) {
        int from = text.indexOf(start);
        if (from < 0) {
            return "?";
        }
        from += start.length();
        return text.substring(from, text.indexOf(end, from));
    }
}
