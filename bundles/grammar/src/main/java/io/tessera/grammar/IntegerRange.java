package io.tessera.grammar;

import java.util.ArrayList;
import java.util.List;

/**
 * The decimal integers in {@code [min, max]} (no leading zeros, no {@code -0}) as a digit automaton: the range
 * is split by length and by leading digit until each part is a fixed digit followed by a smaller range or a run
 * of free digits. An open end is bounded by {@link #MAX_DIGITS} digits.
 */
final class IntegerRange {
    static final int MAX_DIGITS = 16;
    private static final long LIMIT = 9_999_999_999_999_999L;   // MAX_DIGITS nines

    private IntegerRange() {
    }

    /** {@code min} / {@code max} null: open. */
    static Piece of(Long min, Long max) {
        long lo = min == null ? -LIMIT : Math.max(min, -LIMIT);
        long hi = max == null ? LIMIT : Math.min(max, LIMIT);
        List<Piece> parts = new ArrayList<>();
        if (lo < 0) {
            parts.add(Piece.seq(Piece.literal("-"), natural(Math.max(1, -hi), -lo)));
        }
        if (hi >= 0) {
            parts.add(natural(Math.max(0, lo), hi));
        }
        return parts.size() == 1 ? parts.get(0) : Piece.alt(parts);
    }

    /** {@code [a, b]}, {@code 0 <= a <= b}. */
    private static Piece natural(long a, long b) {
        List<Piece> parts = new ArrayList<>();
        for (int length = digits(a); length <= digits(b); length++) {
            long first = length == 1 ? 0 : pow10(length - 1);
            long last = pow10(length) - 1;
            parts.add(sameLength(pad(Math.max(a, first), length), pad(Math.min(b, last), length)));
        }
        return parts.size() == 1 ? parts.get(0) : Piece.alt(parts);
    }

    /** Digit strings of equal length between {@code x} and {@code y} inclusive. */
    private static Piece sameLength(String x, String y) {
        int n = x.length();
        char x0 = x.charAt(0);
        char y0 = y.charAt(0);
        if (n == 1) {
            return Piece.range(x0, y0);
        }
        String xs = x.substring(1);
        String ys = y.substring(1);
        if (x0 == y0) {
            return Piece.seq(Piece.range(x0, x0), sameLength(xs, ys));
        }
        String zeros = "0".repeat(n - 1);
        String nines = "9".repeat(n - 1);
        Piece free = Piece.repeat(Piece.range('0', '9'), n - 1, n - 1);
        List<Piece> parts = new ArrayList<>();
        char from = x0;
        if (!xs.equals(zeros)) {
            parts.add(Piece.seq(Piece.range(x0, x0), sameLength(xs, nines)));
            from++;
        }
        char to = y0;
        Piece upper = null;
        if (!ys.equals(nines)) {
            upper = Piece.seq(Piece.range(y0, y0), sameLength(zeros, ys));
            to--;
        }
        if (from <= to) {
            parts.add(Piece.seq(Piece.range(from, to), free));
        }
        if (upper != null) {
            parts.add(upper);
        }
        return parts.size() == 1 ? parts.get(0) : Piece.alt(parts);
    }

    private static int digits(long v) {
        return Long.toString(v).length();
    }

    private static long pow10(int n) {
        long p = 1;
        for (int i = 0; i < n; i++) {
            p *= 10;
        }
        return p;
    }

    private static String pad(long v, int length) {
        String s = Long.toString(v);
        return "0".repeat(length - s.length()) + s;
    }
}
