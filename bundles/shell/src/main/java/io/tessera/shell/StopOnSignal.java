package io.tessera.shell;

import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.BundleException;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * SIGTERM (or Ctrl-C without a console) stops the framework in order, as an operator's {@code stop 0} would, so
 * that components drain their work (the HTTP API lets in-flight requests finish) before the JVM ends. The JVM
 * runs this while it shuts down; the hook waits, bounded, for the framework to stop.
 */
@Component(immediate = true)
public class StopOnSignal {
    private static final Logger LOG = LoggerFactory.getLogger(StopOnSignal.class);
    /** Longer than any drain: the HTTP API's drainSeconds plus its grace. */
    private static final long WAIT_MILLIS = 120_000;

    private final Thread hook;

    @Activate
    public StopOnSignal(BundleContext context) {
        Bundle system = context.getBundle(0);
        hook = new Thread(() -> stop(system), "tessera-stop-on-signal");
        Runtime.getRuntime().addShutdownHook(hook);
    }

    private static void stop(Bundle system) {
        if (system.getState() != Bundle.ACTIVE) {
            return;
        }
        LOG.info("signal received: stopping the node");
        try {
            system.stop();
            long end = System.currentTimeMillis() + WAIT_MILLIS;
            while ((system.getState() & (Bundle.ACTIVE | Bundle.STOPPING)) != 0 && System.currentTimeMillis() < end) {
                Thread.sleep(50);
            }
        } catch (BundleException | IllegalStateException e) {
            LOG.error("could not stop the framework: {}", e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Deactivate
    void deactivate() {
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException shuttingDown) {
            // the hook is running: this is the stop it asked for
        }
    }
}
