package io.tessera.itest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.Constants;
import org.osgi.framework.Version;
import org.osgi.framework.wiring.BundleCapability;
import org.osgi.framework.wiring.BundleRequirement;
import org.osgi.framework.wiring.BundleWiring;
import org.osgi.framework.namespace.PackageNamespace;
import org.osgi.test.common.annotation.InjectBundleContext;

/**
 * The import ranges bnd derives from {@code @ProviderType}/{@code @ConsumerType}: a bundle that implements a
 * provider type of an api package accepts only that package's minor line (at 0.2.0: {@code [0.2,0.3)}), so an api
 * with a new method is never wired to an implementation that lacks it; a bundle that only calls the package
 * accepts every compatible version ({@code [0.2,1)}). The expected ranges follow the version the api bundle
 * exports each package at.
 */
public class ApiImportRangesTest {

    @InjectBundleContext
    BundleContext context;

    @Test
    void backendsImportTheKernelPackageAsProviders() {
        for (String backend : new String[] {"io.tessera.kernels-cpu", "io.tessera.kernels-cuda",
                "io.tessera.kernels-reference"}) {
            assertEquals(provider("io.tessera.api.kernel"), importRange(backend, "io.tessera.api.kernel"), backend);
        }
    }

    @Test
    void componentProvidersImportTheModelPackageAsProviders() {
        for (String provider : new String[] {"io.tessera.engine", "io.tessera.moe", "io.tessera.mtp",
                "io.tessera.attention-global", "io.tessera.attention-sliding"}) {
            assertEquals(provider("io.tessera.api.model"), importRange(provider, "io.tessera.api.model"), provider);
        }
        assertEquals(provider("io.tessera.api.tokenizer"), importRange("io.tessera.tokenizer",
                "io.tessera.api.tokenizer"));
        assertEquals(provider("io.tessera.api.checkpoint"), importRange("io.tessera.checkpoint",
                "io.tessera.api.checkpoint"));
    }

    @Test
    void callersImportAsConsumers() {
        // the engine calls backends; the shell and the HTTP API call the engine and implement only listeners
        assertEquals(consumer("io.tessera.api.kernel"), importRange("io.tessera.engine", "io.tessera.api.kernel"));
        assertEquals(consumer("io.tessera.api.model"), importRange("io.tessera.shell", "io.tessera.api.model"));
        assertEquals(consumer("io.tessera.api.model"), importRange("io.tessera.http", "io.tessera.api.model"));
    }

    /** A provider's range of {@code pkg}: its exported version's minor line. */
    private String provider(String pkg) {
        Version v = exported(pkg);
        return "[" + v.getMajor() + "." + v.getMinor() + ".0," + v.getMajor() + "." + (v.getMinor() + 1) + ".0)";
    }

    /** A consumer's range of {@code pkg}: from its exported version to the next major. */
    private String consumer(String pkg) {
        Version v = exported(pkg);
        return "[" + v.getMajor() + "." + v.getMinor() + ".0," + (v.getMajor() + 1) + ".0.0)";
    }

    /** The version the api bundle exports {@code pkg} at. */
    private Version exported(String pkg) {
        Bundle api = bundle("io.tessera.api");
        for (BundleCapability capability : api.adapt(BundleWiring.class)
                .getCapabilities(PackageNamespace.PACKAGE_NAMESPACE)) {
            if (pkg.equals(capability.getAttributes().get(PackageNamespace.PACKAGE_NAMESPACE))) {
                return (Version) capability.getAttributes().get(PackageNamespace.CAPABILITY_VERSION_ATTRIBUTE);
            }
        }
        throw new AssertionError("io.tessera.api does not export " + pkg);
    }

    private Bundle bundle(String bsn) {
        Bundle bundle = Arrays.stream(context.getBundles()).filter(b -> bsn.equals(b.getSymbolicName()))
                .findFirst().orElse(null);
        assertNotNull(bundle, bsn + " is not installed");
        return bundle;
    }

    /** The version range of the bundle's wired import of the package, as the framework parsed it. */
    private String importRange(String bsn, String pkg) {
        Bundle bundle = bundle(bsn);
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
