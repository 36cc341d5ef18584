package io.tessera.engine;

import io.tessera.api.model.ModelArchitecture;
import io.tessera.api.model.ModelRegistry;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Loads the model a configuration names when the node starts, e.g. {@code conf/io.tessera.model-default.cfg}
 * with {@code directory=...}; removing the file unloads it. Loading runs in the background so the node starts at
 * once; progress and errors go to the log. A checkpoint whose model family is not registered yet (its bundle starts
 * after this one) is tried again whenever a {@link ModelArchitecture} service arrives.
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
    private final Config config;
    private final String name;
    private boolean loaded;        // guarded by this
    private boolean loading;       // guarded by this
    private boolean again;         // guarded by this: a family arrived while a load ran
    private boolean deactivated;   // guarded by this

    @Activate
    public ModelAutoload(@Reference ModelRegistry registry, Config config) {
        this.registry = registry;
        this.config = config;
        Path directory = Path.of(config.directory());
        name = config.name().isEmpty() ? directory.getFileName().toString() : config.name();
        CompletableFuture.runAsync(this::load);
    }

    /** A model family arriving may be the one the checkpoint needs. */
    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    void addArchitecture(ModelArchitecture architecture) {
        CompletableFuture.runAsync(this::load);
    }

    void removeArchitecture(ModelArchitecture architecture) {
        // a loaded model waits for its family in the engine; nothing to do here
    }

    /**
     * Loads the model unless it is loaded, loading or deactivated; a failed load is tried again when a family
     * arrived meanwhile, else when the next one arrives.
     */
    private void load() {
        synchronized (this) {
            if (loaded || deactivated) {
                return;
            }
            if (loading) {
                again = true;
                return;
            }
            loading = true;
        }
        Path directory = Path.of(config.directory());
        while (true) {
            try {
                registry.load(directory, name, config.backend().isEmpty() ? null : config.backend(),
                        line -> LOG.debug("{}: {}", name, line));
                LOG.info("model {} loaded from {}", name, directory);
                break;
            } catch (Exception e) {
                synchronized (this) {
                    if (!again || deactivated) {
                        loading = false;
                        again = false;
                        LOG.error("model {} could not be loaded from {} (tried again when a model family arrives): {}",
                                name, directory, e.getMessage());
                        return;
                    }
                    again = false;
                }
            }
        }
        loadedOrUnload();
    }

    /** The load finished: keep the model, or unload it at once when the configuration left meanwhile. */
    private void loadedOrUnload() {
        boolean keep;
        synchronized (this) {
            loading = false;
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
