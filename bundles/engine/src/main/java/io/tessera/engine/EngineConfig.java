package io.tessera.engine;

import java.util.List;
import java.util.Map;

/**
 * The engine's settings ({@link EngineSettings} describes them), parsed from Configuration Admin properties. A
 * value that is not a number or out of range is reported and the previous value kept.
 */
record EngineConfig(int maxRows, int sequences, int contextLength, int queueLimit, int waitSeconds, String backend,
                    String speculation, int kvBudgetMiB, int kvBlockTokens, boolean prefixCache) {
    static final EngineConfig DEFAULTS = new EngineConfig(64, 4, 0, 64, 60, "", "adaptive", 128, 32, true);
    /** {@link #draftTokens()} of the adaptive setting: the draft policy chooses per sequence and step. */
    static final int ADAPTIVE = -1;

    /** Draft tokens per step for requests that leave it to the node: {@link #ADAPTIVE}, 0 (off) or a fixed k. */
    int draftTokens() {
        return switch (speculation) {
            case "adaptive" -> ADAPTIVE;
            case "off" -> 0;
            default -> Integer.parseInt(speculation);
        };
    }

    /**
     * Settings from {@code properties}: a missing one has its default, a bad one keeps its value in
     * {@code previous} and is described in {@code problems}.
     */
    static EngineConfig parse(Map<String, ?> properties, EngineConfig previous, List<String> problems) {
        Object backend = properties.get("backend");
        return new EngineConfig(
                number(properties, "maxRows", DEFAULTS.maxRows, previous.maxRows, 1, 1 << 16, problems),
                number(properties, "sequences", DEFAULTS.sequences, previous.sequences, 1, 1024, problems),
                number(properties, "contextLength", DEFAULTS.contextLength, previous.contextLength, 0, 1 << 24,
                        problems),
                number(properties, "queueLimit", DEFAULTS.queueLimit, previous.queueLimit, 1, 1 << 20, problems),
                number(properties, "waitSeconds", DEFAULTS.waitSeconds, previous.waitSeconds, 0, 86_400, problems),
                backend == null ? DEFAULTS.backend : backend.toString().trim(),
                speculation(properties.get("speculation"), previous.speculation, problems),
                number(properties, "kvBudgetMiB", DEFAULTS.kvBudgetMiB, previous.kvBudgetMiB, 1, 1 << 24, problems),
                number(properties, "kvBlockTokens", DEFAULTS.kvBlockTokens, previous.kvBlockTokens, 1, 4096,
                        problems),
                flag(properties, "prefixCache", DEFAULTS.prefixCache, previous.prefixCache, problems));
    }

    private static boolean flag(Map<String, ?> properties, String key, boolean fallback, boolean previous,
                                List<String> problems) {
        Object value = properties.get(key);
        if (value == null) {
            return fallback;
        }
        String s = value.toString().trim().toLowerCase(java.util.Locale.ROOT);
        if (s.equals("true") || s.equals("false")) {
            return Boolean.parseBoolean(s);
        }
        problems.add("io.tessera.engine: " + key + "=" + value + " not applied (true or false expected); keeping "
                + previous);
        return previous;
    }

    /** {@code adaptive}, {@code off} or a draft count 0–3 (0 reads as off). */
    private static String speculation(Object value, String previous, List<String> problems) {
        if (value == null) {
            return DEFAULTS.speculation;
        }
        String s = value.toString().trim().toLowerCase(java.util.Locale.ROOT);
        if (s.equals("adaptive") || s.equals("off") || s.matches("[1-3]")) {
            return s;
        }
        if (s.equals("0")) {
            return "off";
        }
        problems.add("io.tessera.engine: speculation=" + value + " not applied (adaptive, off or a draft count 0-3 "
                + "expected); keeping " + previous);
        return previous;
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
