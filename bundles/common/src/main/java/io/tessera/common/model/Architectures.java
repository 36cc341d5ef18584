package io.tessera.common.model;

import io.tessera.api.model.ModelArchitecture;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The {@link ModelArchitecture} services present, by the {@code architectures[0]} names and {@code model_type}s
 * their service properties list. Thread-safe; a holder adds and removes services from its DS bind methods.
 */
public final class Architectures {
    private final Map<String, ModelArchitecture> byName = new ConcurrentHashMap<>();
    private final Map<String, ModelArchitecture> byType = new ConcurrentHashMap<>();

    public void add(ModelArchitecture architecture, Map<String, Object> properties) {
        names(properties.get(ModelArchitecture.ARCHITECTURE)).forEach(n -> byName.put(n, architecture));
        names(properties.get(ModelArchitecture.MODEL_TYPE)).forEach(t -> byType.put(t, architecture));
    }

    public void remove(ModelArchitecture architecture, Map<String, Object> properties) {
        names(properties.get(ModelArchitecture.ARCHITECTURE)).forEach(n -> byName.remove(n, architecture));
        names(properties.get(ModelArchitecture.MODEL_TYPE)).forEach(t -> byType.remove(t, architecture));
    }

    /** The service serving {@code architectures[0]}. */
    public Optional<ModelArchitecture> find(String architecture) {
        return Optional.ofNullable(byName.get(architecture));
    }

    /** The service whose {@code model_type} is this, for configs without {@code architectures}. */
    public Optional<ModelArchitecture> findType(String modelType) {
        return Optional.ofNullable(byType.get(modelType));
    }

    /** The architectures installed, sorted, for messages. */
    public Set<String> installed() {
        return new TreeSet<>(byName.keySet());
    }

    /**
     * An immutable copy by architecture name, and by {@code model_type} for configs that only have that (a
     * checkpoint's {@code ModelConfig.architecture()} is then its model_type), for a snapshot of the services.
     */
    public Map<String, ModelArchitecture> snapshot() {
        Map<String, ModelArchitecture> all = new java.util.HashMap<>(byType);
        all.putAll(byName);
        return Map.copyOf(all);
    }

    private static List<String> names(Object property) {
        if (property instanceof String s) {
            return List.of(s);
        }
        if (property instanceof String[] a) {
            return List.of(a);
        }
        return List.of();
    }
}
