package io.tessera.engine;

import java.util.List;
import java.util.Map;

/**
 * The engine's settings ({@link EngineSettings} describes them), parsed from Configuration Admin properties. A
 * value that is not a number or out of range is reported and the previous value kept.
 */
record EngineConfig(int maxRows, int sequences, int contextLength, int queueLimit, int waitSeconds, String backend) {
    static final EngineConfig DEFAULTS = new EngineConfig(64, 4, 4096, 64, 60, "");

    /**
     * Settings from {@code properties}: a missing one has its default, a bad one keeps its value in
     * {@code previous} and is described in {@code problems}.
     */
    static EngineConfig parse(Map<String, ?> properties, EngineConfig previous, List<String> problems) {
        Object backend = properties.get("backend");
        return new EngineConfig(
                number(properties, "maxRows", DEFAULTS.maxRows, previous.maxRows, 1, 1 << 16, problems),
                number(properties, "sequences", DEFAULTS.sequences, previous.sequences, 1, 1024, problems),
                number(properties, "contextLength", DEFAULTS.contextLength, previous.contextLength, 1, 1 << 24,
                        problems),
                number(properties, "queueLimit", DEFAULTS.queueLimit, previous.queueLimit, 1, 1 << 20, problems),
                number(properties, "waitSeconds", DEFAULTS.waitSeconds, previous.waitSeconds, 0, 86_400, problems),
                backend == null ? DEFAULTS.backend : backend.toString().trim());
    }

    private static int number(Map<String, ?> properties, String key, int fallback, int previous, int min, int max,
                              List<String> problems) {
        Object value = properties.get(key);
        if (value == null) {
            return fallback;
        }
        try {
            int n = value instanceof Number number ? Math.toIntExact(number.longValue())
                    : Integer.parseInt(value.toString().trim());
            if (n >= min && n <= max) {
                return n;
            }
        } catch (NumberFormatException | ArithmeticException e) {
            // reported below
        }
        problems.add("io.tessera.engine: " + key + "=" + value + " not applied (an integer in [" + min + ", " + max
                + "] expected); keeping " + previous);
        return previous;
    }
}
