package io.tessera.shell;

import io.tessera.api.model.ModelInfo;
import io.tessera.api.model.ModelRegistry;
import java.util.List;
import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;

/**
 * Which model a command means: the one named, or the only one loaded. A model configured to load at start
 * ({@code conf/io.tessera.model-*.cfg}) loads in the background, so a script run right after start waits for it
 * (bounded) instead of failing — until a model has been seen or an operator unloaded one: then an empty registry
 * means no model, at once.
 */
@Component(service = ModelChoice.class)
public class ModelChoice {
    static final String AUTOLOAD_PID = "io.tessera.model";
    private static final long WAIT_MILLIS = 300_000;

    private final ModelRegistry registry;
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    private volatile ConfigurationAdmin configurations;
    private volatile boolean settled;   // a model was seen or unloaded: nothing more is on its way

    @Activate
    public ModelChoice(@Reference ModelRegistry registry) {
        this.registry = registry;
    }

    /** The model named, or the only loaded one when none is named. */
    String pick(String name) throws InterruptedException {
        if (!name.isEmpty()) {
            return name;
        }
        long deadline = System.currentTimeMillis() + WAIT_MILLIS;
        List<ModelInfo> models = registry.models();
        while (models.isEmpty() && !settled && autoloadConfigured() && System.currentTimeMillis() < deadline) {
            Thread.sleep(100);
            models = registry.models();
        }
        settled = true;
        if (models.size() != 1) {
            throw new IllegalArgumentException(models.isEmpty() ? "no model loaded (model:load <dir>)"
                    : "several models loaded: name one with --model");
        }
        return models.get(0).name();
    }

    /** An operator unloaded a model: a command without a model must not wait for an autoload any more. */
    void unloaded() {
        settled = true;
    }

    private boolean autoloadConfigured() {
        ConfigurationAdmin admin = configurations;
        try {
            Configuration[] configured = admin == null ? null
                    : admin.listConfigurations("(service.factoryPid=" + AUTOLOAD_PID + ")");
            return configured != null && configured.length > 0;
        } catch (Exception e) {
            return false;
        }
    }
}
