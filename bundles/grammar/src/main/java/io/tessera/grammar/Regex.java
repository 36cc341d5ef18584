package io.tessera.grammar;

import io.tessera.api.grammar.GrammarException;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * A JSON Schema {@code pattern} (ECMA-262 syntax: alternation, groups, classes, escapes, greedy or lazy
 * quantifiers, anchors at the ends) as a piece over the characters of a string value. Unanchored ends match
 * any text, as the keyword's semantics say. Backreferences, lookaround and word boundaries are refused.
 */
final class Regex {
    private static final CharSet DIGIT = CharSet.of('0', '9');
    private static final CharSet WORD = DIGIT.union(CharSet.of('a', 'z')).union(CharSet.of('A', 'Z'))
            .union(CharSet.of('_', '_'));
    private static final CharSet SPACE = CharSet.of('\t', '\r').union(CharSet.of(' ', ' '))
            .union(CharSet.of(0xA0, 0xA0)).union(CharSet.of(0xFEFF, 0xFEFF)).union(CharSet.of(0x2028, 0x2029));
    private static final CharSet DOT = CharSet.ANY.minus(CharSet.of('\n', '\n')).minus(CharSet.of('\r', '\r'))
            .minus(CharSet.of(0x2028, 0x2029));

    private final String source;
    private final Function<CharSet, Piece> character;
    private int at;

    private Regex(String source, Function<CharSet, Piece> character) {
        this.source = source;
        this.character = character;
    }

    /** The strings matching {@code pattern}, each character spelled by {@code character}. */
    static Piece compile(String pattern, Function<CharSet, Piece> character) {
        Regex r = new Regex(pattern, character);
        boolean start = r.eat('^');
        Piece body = r.alternation();
        boolean end = r.eat('$');
        if (r.at < pattern.length()) {
            throw r.fail("unexpected '" + pattern.charAt(r.at) + "'");
        }
        Piece anything = Piece.repeat(character.apply(CharSet.ANY), 0, -1);
        return Piece.seq(start ? Piece.EMPTY : anything, body, end ? Piece.EMPTY : anything);
    }

    private Piece alternation() {
        List<Piece> choices = new ArrayList<>();
        choices.add(sequence());
        while (eat('|')) {
            choices.add(sequence());
        }
        return choices.size() == 1 ? choices.get(0) : Piece.alt(choices);
    }

    private Piece sequence() {
        List<Piece> items = new ArrayList<>();
        while (at < source.length() && peek() != '|' && peek() != ')' && !(peek() == '$' && at == source.length() - 1)) {
            items.add(quantified(atom()));
        }
        return Piece.seq(items.toArray(Piece[]::new));
    }

    private Piece quantified(Piece atom) {
        int min;
        int max;
        if (eat('*')) {
            min = 0;
            max = -1;
        } else if (eat('+')) {
            min = 1;
            max = -1;
        } else if (eat('?')) {
            min = 0;
            max = 1;
        } else if (peek() == '{' && at + 1 < source.length() && Character.isDigit(source.charAt(at + 1))) {
            at++;
            min = number();
            max = eat(',') ? (peek() == '}' ? -1 : number()) : min;
            expect('}');
            if (max >= 0 && max < min) {
                throw fail("quantifier {" + min + "," + max + "} has max < min");
            }
        } else {
            return atom;
        }
        eat('?');   // lazy or greedy match the same strings
        return Piece.repeat(atom, min, max);
    }

    private Piece atom() {
        char c = source.charAt(at++);
        return switch (c) {
            case '(' -> {
                if (eat('?')) {
                    if (!eat(':')) {
                        throw fail("lookaround and named groups are not supported");
                    }
                }
                Piece inner = alternation();
                expect(')');
                yield inner;
            }
            case '[' -> character.apply(charClass());
            case '.' -> character.apply(DOT);
            case '\\' -> character.apply(escape(false));
            case '*', '+', '?', '{' -> throw fail("nothing to repeat before '" + c + "'");
            case '^', '$' -> throw fail("anchors are supported only at the ends");
            default -> {
                int code = source.codePointAt(at - 1);
                at += Character.charCount(code) - 1;
                yield character.apply(single(code));
            }
        };
    }

    private CharSet charClass() {
        boolean negated = eat('^');
        CharSet set = new CharSet(new int[0]);
        boolean first = true;
        while (first || peek() != ']') {
            first = false;
            if (at >= source.length()) {
                throw fail("unterminated character class");
            }
            CharSet item = classAtom();
            if (peek() == '-' && at + 1 < source.length() && source.charAt(at + 1) != ']') {
                at++;
                CharSet upper = classAtom();
                int lo = single(item);
                int hi = single(upper);
                if (hi < lo) {
                    throw fail("range out of order");
                }
                item = CharSet.of(lo, hi);
            }
            set = set.union(item);
        }
        at++;
        return negated ? set.complement() : set;
    }

    private CharSet classAtom() {
        char c = source.charAt(at++);
        return c == '\\' ? escape(true) : single(c);
    }

    private CharSet escape(boolean inClass) {
        if (at >= source.length()) {
            throw fail("trailing backslash");
        }
        char c = source.charAt(at++);
        return switch (c) {
            case 'd' -> DIGIT;
            case 'D' -> DIGIT.complement();
            case 'w' -> WORD;
            case 'W' -> WORD.complement();
            case 's' -> SPACE;
            case 'S' -> SPACE.complement();
            case 'n' -> single('\n');
            case 't' -> single('\t');
            case 'r' -> single('\r');
            case 'f' -> single('\f');
            case 'v' -> single(0x0B);
            case '0' -> single(0);
            case 'b' -> {
                if (inClass) {
                    yield single('\b');
                }
                throw fail("word boundaries are not supported");
            }
            case 'u' -> {
                if (at + 4 > source.length()) {
                    throw fail("\\u needs four hex digits");
                }
                try {
                    int code = Integer.parseInt(source.substring(at, at + 4), 16);
                    at += 4;
                    yield single(code);
                } catch (NumberFormatException e) {
                    throw fail("\\u needs four hex digits");
                }
            }
            default -> {
                if (Character.isLetterOrDigit(c)) {
                    throw fail("escape \\" + c + " is not supported");
                }
                yield single(c);
            }
        };
    }

    private static CharSet single(int c) {
        return CharSet.of(c, c);
    }

    private int single(CharSet set) {
        if (set.ranges().length != 2 || set.ranges()[0] != set.ranges()[1]) {
            throw fail("a class escape cannot bound a range");
        }
        return set.ranges()[0];
    }

    private int number() {
        int start = at;
        while (at < source.length() && Character.isDigit(source.charAt(at))) {
            at++;
        }
        if (start == at || at - start > 6) {
            throw fail("bad repetition count");
        }
        return Integer.parseInt(source.substring(start, at));
    }

    private char peek() {
        return at < source.length() ? source.charAt(at) : '\0';
    }

    private boolean eat(char c) {
        if (at < source.length() && source.charAt(at) == c) {
            at++;
            return true;
        }
        return false;
    }

    private void expect(char c) {
        if (!eat(c)) {
            throw fail("expected '" + c + "'");
        }
    }

    private GrammarException fail(String why) {
        return new GrammarException("pattern", "pattern '" + source + "': " + why + " (at " + at + ")");
    }
}
