package io.tessera.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class EngineConfigTest {
    /** The metatype operators see and the parser's defaults are one set of values. */
    @Test
    void defaultsAreTheMetatypeDefaults() throws Exception {
        for (Method attribute : EngineSettings.class.getDeclaredMethods()) {
            Object parsed = EngineConfig.class.getMethod(attribute.getName()).invoke(EngineConfig.DEFAULTS);
            assertEquals(attribute.getDefaultValue(), parsed, attribute.getName());
        }
        assertEquals(EngineConfig.class.getRecordComponents().length,
                EngineSettings.class.getDeclaredMethods().length);
    }

    @Test
    void stringsFromACfgFileParse() {
        List<String> problems = new ArrayList<>();
        EngineConfig c = EngineConfig.parse(Map.of("maxRows", " 32", "sequences", "8", "contextLength", 2048L,
                "queueLimit", 5, "waitSeconds", "0", "backend", "reference ", "speculation", " 2"), EngineConfig.DEFAULTS,
                problems);
        assertEquals(new EngineConfig(32, 8, 2048, 5, 0, "reference", "2", 128, 32, true), c);
        assertEquals(2, c.draftTokens());
        assertTrue(problems.isEmpty(), problems.toString());
    }

    @Test
    void speculationSettings() {
        List<String> problems = new ArrayList<>();
        assertEquals(EngineConfig.ADAPTIVE, EngineConfig.DEFAULTS.draftTokens());
        assertEquals(0, EngineConfig.parse(Map.of("speculation", "OFF"), EngineConfig.DEFAULTS, problems)
                .draftTokens());
        assertEquals(0, EngineConfig.parse(Map.of("speculation", "0"), EngineConfig.DEFAULTS, problems)
                .draftTokens());
        assertEquals(3, EngineConfig.parse(Map.of("speculation", "3"), EngineConfig.DEFAULTS, problems)
                .draftTokens());
        assertTrue(problems.isEmpty(), problems.toString());
        assertEquals("adaptive", EngineConfig.parse(Map.of("speculation", "sometimes"), EngineConfig.DEFAULTS,
                problems).speculation());
        assertTrue(problems.getFirst().contains("speculation=sometimes not applied"), problems.toString());
    }

    @Test
    void aBadValueIsReportedAndKeepsThePreviousOneWhileAMissingOneIsTheDefault() {
        EngineConfig previous = new EngineConfig(16, 2, 1024, 9, 30, "cpu", "off", 64, 16, false);
        List<String> problems = new ArrayList<>();
        EngineConfig c = EngineConfig.parse(Map.of("maxRows", "many", "sequences", "0", "contextLength",
                "99999999999", "speculation", "4", "kvBudgetMiB", "0", "prefixCache", "maybe"), previous, problems);
        assertEquals(new EngineConfig(16, 2, 1024, 64, 60, "", "off", 64, 32, false), c);
        assertEquals(6, problems.size(), problems.toString());
        assertTrue(problems.get(5).contains("prefixCache=maybe not applied"), problems.get(5));
        assertTrue(problems.get(0).contains("maxRows=many not applied") && problems.get(0).contains("keeping 16"),
                problems.get(0));
    }
}
