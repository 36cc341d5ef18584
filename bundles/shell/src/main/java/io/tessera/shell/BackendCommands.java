package io.tessera.shell;

import io.tessera.api.kernel.BackendInfo;
import io.tessera.api.kernel.BackendProbe;
import io.tessera.api.kernel.KernelBackend;
import io.tessera.api.model.ModelInfo;
import io.tessera.api.model.ModelRegistry;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.felix.service.command.CommandSession;
import org.apache.felix.service.command.Descriptor;
import org.apache.felix.service.command.Parameter;
import org.osgi.framework.Constants;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;

/** {@code backend:*} commands: list the kernel backends (and why one is missing), move a model to another. */
@Component(service = BackendCommands.class, property = {"osgi.command.scope=backend", "osgi.command.function=list",
        "osgi.command.function=use", "osgi.command.function=names"})
public class BackendCommands {
    private final ModelRegistry registry;
    private final ModelChoice choice;
    private final Map<KernelBackend, Map<String, Object>> backends = new ConcurrentHashMap<>();
    private final Set<BackendProbe> probes = ConcurrentHashMap.newKeySet();

    @Activate
    public BackendCommands(@Reference ModelRegistry registry, @Reference ModelChoice choice) {
        this.registry = registry;
        this.choice = choice;
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    void addBackend(KernelBackend backend, Map<String, Object> properties) {
        backends.put(backend, properties);
    }

    void removeBackend(KernelBackend backend) {
        backends.remove(backend);
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    void addProbe(BackendProbe probe) {
        probes.add(probe);
    }

    void removeProbe(BackendProbe probe) {
        probes.remove(probe);
    }

    @Descriptor("list kernel backends: name, ranking, device, memory in use, and state (the models it serves, or why "
            + "it is unavailable); then engine notices (configuration not applied, failed assemblies, last swaps)")
    public void list(CommandSession session) {
        PrintStream out = session.getConsole();
        List<ModelInfo> models = registry.models();
        out.printf("%-12s %7s  %-10s  %-24s  %s%n", "BACKEND", "RANKING", "MEMORY", "STATE", "DEVICE");
        Set<String> listed = new TreeSet<>();
        backends.entrySet().stream()
                .sorted(Comparator.comparingInt((Map.Entry<KernelBackend, Map<String, Object>> e) ->
                        -ranking(e.getValue())).thenComparing(e -> e.getKey().name()))
                .forEach(e -> {
                    KernelBackend backend = e.getKey();
                    BackendInfo info = backend.info();
                    List<String> serving = models.stream().filter(m -> backend.name().equals(m.backend())
                            && m.state() == ModelInfo.State.READY).map(ModelInfo::name).toList();
                    out.printf("%-12s %7d  %-10s  %-24s  %s%n", backend.name(), ranking(e.getValue()),
                            ModelCommands.bytes(info.bytesInUse()),
                            serving.isEmpty() ? "idle" : "serving " + String.join(", ", serving), info.device());
                    listed.add(backend.name());
                });
        probes.stream().filter(p -> !listed.contains(p.backend())).sorted(Comparator.comparing(BackendProbe::backend))
                .forEach(p -> out.printf("%-12s %7s  %-10s  %s%n", p.backend(), "-", "-", p.status()));
        if (backends.isEmpty()) {
            out.println("(no backend registered: models wait for one)");
        }
        for (String notice : registry.notices()) {
            out.println("! " + notice);
        }
    }

    @Descriptor("move a model to another backend while it serves (hot swap: in-flight generations keep their tokens); "
            + "the model then prefers it")
    public void use(CommandSession session,
                    @Descriptor("model (default: the only loaded one)") @Parameter(names = {"-m", "--model"},
                            absentValue = "") String model,
                    @Descriptor("backend name, e.g. cpu (see backend:list)") String backend) throws Exception {
        PrintStream out = session.getConsole();
        String name = choice.pick(model);
        ModelInfo before = registry.info(name).orElseThrow();
        if (backend.equals(before.backend()) && before.state() == ModelInfo.State.READY) {
            out.println(name + " already runs on " + backend);
            return;
        }
        ModelInfo after = registry.useBackend(name, backend, line -> {
            out.println("  " + line);
            out.flush();
        });
        out.println(name + " now runs on " + after.backend());
    }

    @Descriptor("names of the registered backends (for completion)")
    public List<String> names() {
        List<String> names = new ArrayList<>();
        backends.keySet().forEach(b -> names.add(b.name()));
        names.sort(null);
        return names;
    }

    private static int ranking(Map<String, Object> properties) {
        return properties.get(Constants.SERVICE_RANKING) instanceof Integer i ? i : 0;
    }
}
