package io.tessera.grammar;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.tessera.api.grammar.GrammarException;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The byte automata of the building blocks, checked string by string against what they must accept. */
class PieceTest {

    static boolean accepts(Piece piece, String text) {
        Nfa nfa = new Nfa();
        int rule = nfa.newRule();
        piece.emit(nfa, nfa.ruleStart(rule), nfa.ruleEnd(rule));
        Automaton automaton = new Automaton(nfa, rule);
        int state = automaton.start();
        for (byte b : text.getBytes(StandardCharsets.UTF_8)) {
            state = automaton.next(state, b & 0xff);
            if (state == Automaton.DEAD) {
                return false;
            }
        }
        return automaton.accepting(state);
    }

    @Test
    void integerRangesAcceptExactlyTheirIntegers() {
        SplittableRandom random = new SplittableRandom(7);
        for (int trial = 0; trial < 60; trial++) {
            long lo = random.nextLong(-2000, 2000);
            long hi = lo + random.nextLong(0, 3000);
            Piece range = IntegerRange.of(lo, hi);
            for (long v = lo - 30; v <= hi + 30; v += 1 + random.nextInt(7)) {
                assertEquals(v >= lo && v <= hi, accepts(range, Long.toString(v)), lo + ".." + hi + " at " + v);
            }
            assertEquals(false, accepts(range, "0" + Math.abs(lo)), "leading zero");
        }
        Piece open = IntegerRange.of(-5L, null);
        assertEquals(true, accepts(open, "123456789012"));
        assertEquals(false, accepts(open, "-6"));
        assertEquals(false, accepts(open, "-0"));
    }

    @Test
    void patternsMatchAsJavaRegexDoes() {
        String[] patterns = {"^[a-c]{1,3}$", "^(ab|c)+d?$", "^\\d{2}-[^0-9\\s]$", "x.z", "^a*$", "^[\\w.]+@q$",
                "^é[ü-ÿ]$", "^\\u0041\\.$"};
        String alphabet = "abcdxz019-é ü.@qÿA\"\\";
        SplittableRandom random = new SplittableRandom(11);
        for (String p : patterns) {
            Piece piece = Regex.compile(p, CharSet::json);
            Pattern java = Pattern.compile(p);
            for (int i = 0; i < 3000; i++) {
                StringBuilder s = new StringBuilder();
                int n = random.nextInt(6);
                for (int k = 0; k < n; k++) {
                    s.append(alphabet.charAt(random.nextInt(alphabet.length())));
                }
                String text = s.toString();
                String json = text.replace("\\", "\\\\").replace("\"", "\\\"");
                assertEquals(java.matcher(text).find(), accepts(piece, json), p + " on '" + text + "'");
            }
        }
    }

    @Test
    void textUntilStopsAtTheFirstTerminator() {
        Piece until = Piece.textUntil("</parameter>");
        assertEquals(true, accepts(until, "a < b </par </parameter>"));
        assertEquals(true, accepts(until, "<</parameter>"));
        assertEquals(false, accepts(until, "x</parameter>y</parameter>"));
        assertEquals(false, accepts(until, "x</paramete"));
    }

    @Test
    void unsupportedKeywordsAreNamed() {
        for (String keyword : new String[]{"patternProperties", "uniqueItems", "not", "if", "contains"}) {
            GrammarException e = assertThrows(GrammarException.class,
                    () -> new SchemaCompiler(null).value(Map.of(keyword, true)));
            assertEquals(keyword, e.keyword());
        }
        assertEquals("pattern", assertThrows(GrammarException.class,
                () -> new SchemaCompiler(null).value(Map.of("type", "string", "pattern", "(a)\\1"))).keyword());
        assertEquals("$ref", assertThrows(GrammarException.class,
                () -> new SchemaCompiler(Map.of()).value(Map.of("$ref", "http://example.com/s"))).keyword());
        assertEquals("minimum", assertThrows(GrammarException.class,
                () -> new SchemaCompiler(null).value(Map.of("type", "integer", "minimum", 5, "maximum", 4))).keyword());
    }

    @Test
    void thinkingComesBeforeTheConstrainedOutput() {
        SchemaCompiler compiler = new SchemaCompiler(null);
        Nfa nfa = compiler.nfa;
        int rule = compiler.output(compiler.value(Map.of("type", "integer", "minimum", 0, "maximum", 9)), true);
        Automaton automaton = new Automaton(nfa, rule);
        for (String text : new String[] {"<think>maybe {\"x\": 1}</think>\n7", "</think>3"}) {
            int state = automaton.start();
            for (byte b : text.getBytes(StandardCharsets.UTF_8)) {
                state = automaton.next(state, b & 0xff);
            }
            assertEquals(true, state != Automaton.DEAD && automaton.accepting(state), text);
        }
        int state = automaton.start();
        for (byte b : "<think>x</think>12".getBytes(StandardCharsets.UTF_8)) {
            state = state == Automaton.DEAD ? state : automaton.next(state, b & 0xff);
        }
        assertEquals(true, state == Automaton.DEAD, "12 is past the maximum");
    }
}
