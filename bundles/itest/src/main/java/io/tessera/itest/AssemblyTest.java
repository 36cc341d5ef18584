package io.tessera.itest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;
import org.apache.felix.service.command.CommandProcessor;
import org.apache.felix.service.command.CommandSession;
import org.junit.jupiter.api.Test;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.Constants;
import org.osgi.test.common.annotation.InjectBundleContext;
import org.osgi.test.common.annotation.InjectService;

/** The assembly starts: every bundle active, the shell answers, the CUDA probe reports instead of failing. */
public class AssemblyTest {

    @InjectBundleContext
    BundleContext context;

    @Test
    void everyBundleIsActive() {
        List<String> notActive = Arrays.stream(context.getBundles())
                .filter(b -> b.getHeaders().get(Constants.FRAGMENT_HOST) == null)
                .filter(b -> b.getState() != Bundle.ACTIVE)
                .map(b -> b.getSymbolicName() + " state " + b.getState())
                .collect(Collectors.toList());
        assertEquals(List.of(), notActive);
    }

    @Test
    void tesseraBundlesArePresent() {
        List<String> names = Arrays.stream(context.getBundles()).map(Bundle::getSymbolicName).toList();
        assertTrue(names.containsAll(List.of("io.tessera.api", "io.tessera.shell", "io.tessera.kernels-cuda",
                "io.tessera.kernels-cpu", "io.tessera.kernels-reference")),
                names.toString());
    }

    @Test
    void shellRunsCommands(@InjectService CommandProcessor processor) throws Exception {
        try (CommandSession session = processor.createSession(InputStream.nullInputStream(), System.out, System.err)) {
            session.execute("lb");
            Object system = session.execute("bundle 0");
            assertTrue(system instanceof Bundle b && b.getBundleId() == 0, String.valueOf(system));
        }
    }
}
