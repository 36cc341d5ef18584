package io.tessera.shell;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

class BenchCommandTest {

    @Test
    void rejectsBadArgumentsNamingThem() {
        assertDoesNotThrow(() -> BenchCommand.validate(128, 64, -1, 3, 1));
        assertDoesNotThrow(() -> BenchCommand.validate(1, 2, 3, 1, 0));
        assertMessage("--prompt-tokens", () -> BenchCommand.validate(0, 64, -1, 3, 1));
        assertMessage("--gen-tokens", () -> BenchCommand.validate(128, 1, -1, 3, 1));
        assertMessage("--drafts", () -> BenchCommand.validate(128, 64, 4, 3, 1));
        assertMessage("--drafts", () -> BenchCommand.validate(128, 64, -2, 3, 1));
        assertMessage("--runs", () -> BenchCommand.validate(128, 64, -1, 0, 1));
        assertMessage("--warmup", () -> BenchCommand.validate(128, 64, -1, 3, -1));
    }

    @Test
    void promptIsSeededAndInsideTheVocabulary() {
        int[] a = BenchCommand.randomPrompt(7, 500, 300);
        assertArrayEquals(a, BenchCommand.randomPrompt(7, 500, 300));
        assertFalse(Arrays.equals(a, BenchCommand.randomPrompt(8, 500, 300)));
        assertEquals(500, a.length);
        assertTrue(Arrays.stream(a).allMatch(id -> id >= 0 && id < 300));
        assertTrue(Arrays.stream(a).distinct().count() > 200, "ids should spread over the vocabulary");
    }

    @Test
    void medianOfOddAndEvenCounts() {
        assertEquals(3.0, BenchCommand.median(new double[] {1, 3, 10}));
        assertEquals(2.5, BenchCommand.median(new double[] {1, 2, 3, 10}));
        assertEquals(4.0, BenchCommand.median(new double[] {4}));
        assertEquals("median 3.00 (min 1.00, max 10.00)", BenchCommand.Summary.stats(new double[] {10, 1, 3}));
    }

    private static void assertMessage(String expected, Runnable call) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call::run);
        assertTrue(e.getMessage().contains(expected), e.getMessage());
    }
}
