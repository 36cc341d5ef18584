package io.tessera.engine;

import io.tessera.api.model.ModelRegistry;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Loads the model a configuration names when the node starts, e.g. {@code conf/io.tessera.model-default.cfg}
 * with {@code directory=...}; removing the file unloads it. Loading runs in the background so the node starts at
 * once; progress and errors go to the log.
 */
@Component(configurationPid = "io.tessera.model", configurationPolicy = ConfigurationPolicy.REQUIRE)
@Designate(ocd = ModelAutoload.Config.class, factory = true)
public class ModelAutoload {
    private static final Logger LOG = LoggerFactory.getLogger(ModelAutoload.class);

    @ObjectClassDefinition(name = "Tessera model", description = "A model loaded when the node starts")
    @interface Config {
        @AttributeDefinition(description = "Checkpoint directory")
        String directory();

        @AttributeDefinition(description = "Model name (default: the directory's name)")
        String name() default "";

        @AttributeDefinition(description = "Backend (default: the highest-ranked)")
        String backend() default "";
    }

    private final ModelRegistry registry;
    private final String name;
    private boolean loaded;        // guarded by this
    private boolean deactivated;   // guarded by this

    @Activate
    public ModelAutoload(@Reference ModelRegistry registry, Config config) {
        this.registry = registry;
        Path directory = Path.of(config.directory());
        name = config.name().isEmpty() ? directory.getFileName().toString() : config.name();
        CompletableFuture.runAsync(() -> {
            try {
                registry.load(directory, name, config.backend().isEmpty() ? null : config.backend(),
                        line -> LOG.debug("{}: {}", name, line));
                LOG.info("model {} loaded from {}", name, directory);
            } catch (Exception e) {
                LOG.error("model {} could not be loaded from {}: {}", name, directory, e.getMessage());
                return;
            }
            loadedOrUnload();
        });
    }

    /** The load finished: keep the model, or unload it at once when the configuration left meanwhile. */
    private void loadedOrUnload() {
        boolean keep;
        synchronized (this) {
            keep = !deactivated;
            loaded = keep;
        }
        if (!keep) {
            registry.unload(name);
            LOG.info("model {} unloaded: its configuration was removed while it loaded", name);
        }
    }

    @Deactivate
    void deactivate() {
        boolean unload;
        synchronized (this) {
            deactivated = true;
            unload = loaded;
        }
        if (unload) {
            registry.unload(name);
        }
    }
}
