package io.tessera.shell;

import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.apache.felix.service.command.CommandProcessor;
import org.apache.felix.service.command.CommandSession;
import org.apache.felix.service.command.Converter;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.FrameworkEvent;
import org.osgi.framework.FrameworkListener;
import org.osgi.framework.startlevel.BundleStartLevel;
import org.osgi.framework.startlevel.FrameworkStartLevel;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

/**
 * One-command mode of the launcher ({@code ./tessera -c '<gogo script>'}): when the framework property
 * {@value #PROPERTY} is set, runs it once the framework has fully started, prints its result, and exits the JVM
 * with 0 on success and 1 when the script throws. Without the property this component does nothing.
 */
@Component(immediate = true)
public class CommandRunner {
    static final String PROPERTY = "tessera.command";

    private final CommandProcessor processor;

    @Activate
    public CommandRunner(@Reference CommandProcessor processor) {
        this.processor = processor;
    }

    @Activate
    void activate(BundleContext context) {
        String script = context.getProperty(PROPERTY);
        if (script == null || script.isBlank()) {
            return;
        }
        // run once the launcher has raised the framework to the highest start level any bundle asks for
        FrameworkListener listener = new FrameworkListener() {
            private boolean started;

            @Override
            public synchronized void frameworkEvent(FrameworkEvent event) {
                if (!started && fullyStarted(context)) {
                    started = true;
                    context.removeFrameworkListener(this);
                    start(script);
                }
            }
        };
        context.addFrameworkListener(listener);
        listener.frameworkEvent(null);
    }

    private static boolean fullyStarted(BundleContext context) {
        Bundle system = context.getBundle(0);
        if (system.getState() != Bundle.ACTIVE) {
            return false;
        }
        int level = system.adapt(FrameworkStartLevel.class).getStartLevel();
        for (Bundle b : context.getBundles()) {
            if (b.adapt(BundleStartLevel.class).getStartLevel() > level) {
                return false;
            }
        }
        return true;
    }

    private void start(String script) {
        // the process's own descriptors: Gogo has replaced System.out/err with streams that delegate per thread to
        // the session's streams, so handing those to a session would loop
        PrintStream out = new PrintStream(new FileOutputStream(FileDescriptor.out), true, StandardCharsets.UTF_8);
        PrintStream err = new PrintStream(new FileOutputStream(FileDescriptor.err), true, StandardCharsets.UTF_8);
        Thread thread = new Thread(() -> System.exit(run(script, out, err)), "tessera-command");
        thread.setDaemon(false);
        thread.start();
    }

    int run(String script, PrintStream out, PrintStream err) {
        try (CommandSession session = processor.createSession(System.in, out, err)) {
            Object result = session.execute(script);
            if (result != null) {
                out.println(session.format(result, Converter.INSPECT));
            }
            return 0;
        } catch (Exception e) {
            Throwable cause = e;
            while (cause instanceof java.lang.reflect.InvocationTargetException && cause.getCause() != null) {
                cause = cause.getCause();
            }
            err.println("Error: " + (cause.getMessage() != null ? cause.getMessage() : cause.toString()));
            return 1;
        } finally {
            out.flush();
            err.flush();
        }
    }
}
