package io.tessera.shell;

import java.io.BufferedReader;
import java.io.FileDescriptor;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.felix.service.command.CommandProcessor;
import org.apache.felix.service.command.CommandSession;
import org.apache.felix.service.command.Converter;
import org.apache.felix.service.command.Function;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.BundleException;
import org.osgi.framework.FrameworkEvent;
import org.osgi.framework.FrameworkListener;
import org.osgi.framework.startlevel.BundleStartLevel;
import org.osgi.framework.startlevel.FrameworkStartLevel;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The launcher's script modes: with the framework property {@value #COMMAND} ({@code ./tessera -c '<script>'}) runs
 * that Gogo script once the framework has fully started; with {@value #STDIN} set ({@code printf 'lb\n' |
 * ./tessera}) runs each line of standard input as it arrives. Results go to standard output, errors to standard
 * error; at the end (or at {@code exit [status]}) the framework stops, and the status (0, or 1 when a command
 * failed) is written to the file {@value #STATUS} names, for the launcher to exit with. Without either property
 * this component does nothing.
 */
@Component(immediate = true)
public class CommandRunner {
    static final String COMMAND = "tessera.command";
    static final String STDIN = "tessera.stdin";
    static final String STATUS = "tessera.status";
    private static final Logger LOG = LoggerFactory.getLogger(CommandRunner.class);

    private final CommandProcessor processor;

    @Activate
    public CommandRunner(@Reference CommandProcessor processor) {
        this.processor = processor;
    }

    @Activate
    void activate(BundleContext context) {
        String script = context.getProperty(COMMAND);
        boolean stdin = Boolean.parseBoolean(context.getProperty(STDIN));
        if ((script == null || script.isBlank()) && !stdin) {
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
                    start(context, script, stdin);
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

    private void start(BundleContext context, String script, boolean stdin) {
        // the process's own descriptors: Gogo has replaced System.out/err with streams that delegate per thread to
        // the session's streams, so handing those to a session would loop
        PrintStream out = new PrintStream(new FileOutputStream(FileDescriptor.out), true, StandardCharsets.UTF_8);
        PrintStream err = new PrintStream(new FileOutputStream(FileDescriptor.err), true, StandardCharsets.UTF_8);
        Thread thread = new Thread(() -> {
            AtomicInteger exited = new AtomicInteger(-1);   // the status an `exit` asked for
            int status;
            InputStream in = new FileInputStream(FileDescriptor.in);
            try (CommandSession session = processor.createSession(in, out, err)) {
                session.put("exit", (Function) (s, arguments) -> {
                    exited.set(arguments.isEmpty() ? 0 : Integer.parseInt(String.valueOf(arguments.getFirst())));
                    return null;
                });
                status = stdin ? runLines(session, in, exited, out, err) : run(session, script, out, err);
            }
            stop(context, exited.get() >= 0 ? exited.get() : status);
        }, "tessera-command");
        thread.setDaemon(true);   // a framework stopped meanwhile (SIGTERM) must not wait for standard input
        thread.start();
    }

    /** Runs each line of standard input as it arrives, until its end or an {@code exit}; 1 if any failed. */
    private static int runLines(CommandSession session, InputStream input, AtomicInteger exited, PrintStream out,
                                PrintStream err) {
        int status = 0;
        try (BufferedReader in = new BufferedReader(new InputStreamReader(input, StandardCharsets.UTF_8))) {
            for (String line; exited.get() < 0 && (line = in.readLine()) != null; ) {
                if (!line.isBlank() && !line.strip().startsWith("#")) {
                    status |= run(session, line, out, err);
                }
            }
        } catch (IOException e) {
            err.println("Error: standard input: " + e.getMessage());
            status = 1;
        }
        return status;
    }

    static int run(CommandSession session, String script, PrintStream out, PrintStream err) {
        try {
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

    /** Leaves the status for the launcher and stops the framework (no bundle ends the JVM itself). */
    private static void stop(BundleContext context, int status) {
        String file = context.getProperty(STATUS);
        try {
            if (file != null && !file.isBlank()) {
                Files.writeString(Path.of(file), Integer.toString(status));
            }
            context.getBundle(0).stop();
        } catch (IOException | BundleException | IllegalStateException e) {
            LOG.error("could not stop the framework after the script: {}", e.toString());
        }
    }
}
