package io.tessera.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class StopMatcherTest {

    @Test
    void holdsBackAPossibleStartAndCutsAtTheMatch() {
        StopMatcher m = new StopMatcher(List.of("END"));
        assertEquals("abc", m.feed("abcE"));
        assertEquals("", m.feed("N"));
        assertEquals("", m.feed("Dxyz"));
        assertTrue(m.stopped());
        assertEquals("", m.flush());
    }

    @Test
    void releasesHeldTextThatDidNotComplete() {
        StopMatcher m = new StopMatcher(List.of("END"));
        assertEquals("ab", m.feed("abEN"));
        assertEquals("ENx", m.feed("x"));
        assertEquals("", m.feed("E"));
        assertEquals("E", m.flush());
        assertFalse(m.stopped());
    }

    /** Against the plain definition: output = text up to the first occurrence of any stop, however it is split. */
    @Test
    void anySplitGivesTheSameTextAsCuttingTheWhole() {
        Random random = new Random(3);
        String alphabet = "abE N\n";
        for (int trial = 0; trial < 2000; trial++) {
            StringBuilder text = new StringBuilder();
            for (int i = random.nextInt(40); i > 0; i--) {
                text.append(alphabet.charAt(random.nextInt(alphabet.length())));
            }
            List<String> stops = List.of("EN", "a\nb", "NNN");
            int cut = text.length();
            for (String s : stops) {
                int at = text.indexOf(s);
                cut = at >= 0 ? Math.min(cut, at) : cut;
            }
            StopMatcher m = new StopMatcher(stops);
            StringBuilder out = new StringBuilder();
            for (int i = 0; i < text.length(); ) {
                int j = Math.min(text.length(), i + 1 + random.nextInt(4));
                out.append(m.feed(text.substring(i, j)));
                i = j;
            }
            out.append(m.flush());
            assertEquals(text.substring(0, cut), out.toString(), "text '" + text + "'");
            assertEquals(cut < text.length(), m.stopped());
        }
    }
}
