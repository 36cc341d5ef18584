package io.tessera.itest;

import static io.tessera.itest.Await.awaitTrue;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Hashtable;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.felix.service.command.CommandProcessor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.osgi.framework.BundleContext;
import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;
import org.osgi.test.common.annotation.InjectBundleContext;
import org.osgi.test.common.annotation.InjectService;

/**
 * Scripted operator sessions: each command's output and help text, the hot swap from the shell, routing record and
 * replay, and configuration changes applied at runtime (a bad value reported, not applied).
 */
public class ShellCommandsTest {
    @InjectBundleContext
    BundleContext context;

    @InjectService
    CommandProcessor processor;

    @InjectService
    ConfigurationAdmin configurations;

    @Test
    void helpDescribesEveryCommandAndOption() throws Exception {
        for (String command : List.of("backend:list", "backend:use", "router:trace", "model:load", "model:list",
                "model:info", "model:unload", "tessera:generate", "tessera:bench")) {
            String help = run("help " + command);
            assertTrue(help.contains(command.substring(command.indexOf(':') + 1)), command + ":\n" + help);
            assertTrue(help.lines().count() >= 2, command + " has no description:\n" + help);
        }
        String use = run("help backend:use");
        assertTrue(use.contains("move a model to another backend") && use.contains("--model")
                && use.contains("backend name"), use);
        String trace = run("help router:trace");
        assertTrue(trace.contains("--record") && trace.contains("--replay") && trace.contains("--max-tokens"), trace);
    }

    @Test
    void backendsModelsSwapAndRoutingFromTheShell(@TempDir Path dir) throws Exception {
        Path checkpoint = checkpoint();
        String list = run("backend:list");
        assertTrue(list.startsWith("BACKEND"), list);
        assertTrue(list.lines().anyMatch(l -> l.startsWith("cpu ") && l.contains(" 100 ") && l.contains("threads")),
                list);
        assertTrue(list.lines().anyMatch(l -> l.startsWith("reference ") && l.contains("idle")), list);
        assertTrue(list.lines().anyMatch(l -> l.startsWith("cuda ") && l.contains("unavailable: ")), list);

        String load = run("model:load -n shell-ops -b cpu " + checkpoint);
        assertTrue(load.contains("layer 0/") && load.contains("loaded shell-ops in"), load);
        try {
            assertTrue(run("model:list").lines().anyMatch(l -> l.startsWith("shell-ops") && l.contains("cpu")
                    && l.endsWith("ready")));
            assertTrue(run("model:names").contains("shell-ops"));
            assertTrue(run("backend:names").contains("reference"));
            assertTrue(run("backend:list").lines().anyMatch(l -> l.startsWith("cpu ")
                    && l.contains("serving shell-ops")));

            String swap = run("backend:use -m shell-ops reference");
            assertTrue(swap.contains("prepared on backend reference")
                    && swap.contains("swapped cpu -> reference: pause") && swap.contains("shell-ops now runs on reference"),
                    swap);
            assertTrue(run("model:info shell-ops").contains("backend reference"));
            String after = run("backend:list");
            assertTrue(after.lines().anyMatch(l -> l.startsWith("reference ") && l.contains("serving shell-ops")),
                    after);
            assertTrue(after.contains("! model shell-ops: last swap cpu -> reference: pause"), after);
            assertTrue(run("backend:use -m shell-ops reference").contains("already runs on reference"));
            assertEquals("backend: no backend named 'nosuch' is registered (registered: cpu, reference)",
                    error("backend:use -m shell-ops nosuch"));
            run("backend:use -m shell-ops cpu");

            Path record = dir.resolve("trace.txt");
            String trace = run("router:trace -m shell-ops --ids 5,17,42,99 -n 5 -o " + record);
            assertTrue(trace.contains("4 prompt + 5 generated tokens, experts of 8 positions"), trace);
            assertTrue(trace.lines().anyMatch(l -> l.trim().startsWith("0 ") && l.contains("L1 ")), trace);
            assertTrue(Files.readString(record).startsWith("# tessera routing record"));
            String replay = run("router:trace -m shell-ops -q -r " + record);
            assertTrue(replay.contains("tokens identical to the record"), replay);

            String bench = run("bench -m shell-ops -p 8 -n 4 -r 1 -w 0 -d 3");
            assertTrue(bench.contains("drafts 3 run 1/1: prefill")
                    && bench.contains("drafts 3 (speculative): prefill") && bench.contains("drafts 0: prefill")
                    && bench.contains("decode"), bench);
            String generate = run("generate -m shell-ops -n 4 --ids 5,17,42");
            assertTrue(generate.contains("[length: prompt 3 tokens"), generate);
        } finally {
            run("model:unload shell-ops");
        }
    }

    /** Engine and CPU settings change at runtime; a bad value is reported by the commands and not applied. */
    @Test
    void configurationAppliesAtRuntimeAndABadValueIsReported() throws Exception {
        Configuration engine = configurations.getConfiguration("io.tessera.engine", "?");
        Configuration cpu = configurations.getConfiguration("io.tessera.kernels.cpu", "?");
        try {
            cpu.update(new Hashtable<>(Map.of("threads", "1")));
            awaitTrue(() -> run("backend:list").lines().anyMatch(l -> l.startsWith("cpu ")
                    && l.contains(" 1 threads")));
            cpu.update(new Hashtable<>(Map.of("threads", "-5")));
            awaitTrue(() -> run("backend:list").contains("threads=-5 not applied"));
            assertTrue(run("backend:list").lines().anyMatch(l -> l.startsWith("cpu ") && l.contains(" 1 threads")));

            engine.update(new Hashtable<>(Map.of("waitSeconds", "soon", "maxRows", "32")));
            awaitTrue(() -> run("model:list").contains("! io.tessera.engine: waitSeconds=soon not applied"));
            assertTrue(run("backend:list").contains("waitSeconds=soon not applied"));

            // the preferred backend applies at once: a loaded model without its own preference moves there
            run("model:load -n shell-config " + checkpoint());
            assertTrue(run("model:list").lines().anyMatch(l -> l.startsWith("shell-config") && l.contains(" cpu ")));
            engine.update(new Hashtable<>(Map.of("backend", "reference")));
            awaitTrue(() -> run("model:list").lines().anyMatch(l -> l.startsWith("shell-config")
                    && l.contains(" reference ")));
        } finally {
            cpu.delete();
            engine.delete();
            run("model:unload shell-config");
        }
        awaitTrue(() -> !run("backend:list").contains("not applied"));
    }

    private Path checkpoint() throws Exception {
        return Goldens.withDraftHeads(Path.of(context.getProperty("tessera.repo"))).get(0).checkpoint();
    }

    private String run(String script) {
        return Gogo.run(processor, script);
    }

    /** The message of the error a script ends with. */
    private String error(String script) {
        return Gogo.error(processor, script);
    }
}
