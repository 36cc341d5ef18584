package io.tessera.grammar;

import java.util.ArrayList;
import java.util.List;

/**
 * A set of Unicode code points as sorted, disjoint ranges, and the pieces that spell one of them: inside a JSON
 * string (quote, backslash and control characters escaped) or raw (a tool-call value, where {@code <} is left
 * out so that {@code </parameter>} cannot occur). Surrogates are never spelled.
 */
record CharSet(int[] ranges) {
    static final int MAX = 0x10FFFF;
    static final CharSet ANY = new CharSet(new int[]{0, MAX});

    static CharSet of(int lo, int hi) {
        return new CharSet(new int[]{lo, hi});
    }

    CharSet union(CharSet other) {
        List<int[]> all = new ArrayList<>();
        for (CharSet set : List.of(this, other)) {
            for (int i = 0; i < set.ranges.length; i += 2) {
                all.add(new int[]{set.ranges[i], set.ranges[i + 1]});
            }
        }
        all.sort((a, b) -> Integer.compare(a[0], b[0]));
        List<Integer> out = new ArrayList<>();
        for (int[] r : all) {
            int n = out.size();
            if (n > 0 && r[0] <= out.get(n - 1) + 1) {
                out.set(n - 1, Math.max(out.get(n - 1), r[1]));
            } else {
                out.add(r[0]);
                out.add(r[1]);
            }
        }
        return new CharSet(out.stream().mapToInt(Integer::intValue).toArray());
    }

    CharSet complement() {
        List<Integer> out = new ArrayList<>();
        int next = 0;
        for (int i = 0; i < ranges.length; i += 2) {
            if (ranges[i] > next) {
                out.add(next);
                out.add(ranges[i] - 1);
            }
            next = ranges[i + 1] + 1;
        }
        if (next <= MAX) {
            out.add(next);
            out.add(MAX);
        }
        return new CharSet(out.stream().mapToInt(Integer::intValue).toArray());
    }

    CharSet minus(CharSet other) {
        return complement().union(other).complement();
    }

    /** One character of the set as it appears between the quotes of a JSON string. */
    Piece json() {
        List<Piece> choices = new ArrayList<>();
        CharSet plain = minus(of(0, 0x1F)).minus(of('"', '"')).minus(of('\\', '\\'));
        choices.add(plain.utf8());
        if (contains('"')) {
            choices.add(Piece.literal("\\\""));
        }
        if (contains('\\')) {
            choices.add(Piece.literal("\\\\"));
        }
        for (int c = 0; c < 0x20; c++) {
            if (contains(c)) {
                choices.add(Piece.literal(switch (c) {
                    case '\n' -> "\\n";
                    case '\t' -> "\\t";
                    case '\r' -> "\\r";
                    case '\b' -> "\\b";
                    case '\f' -> "\\f";
                    default -> String.format("\\u%04x", c);
                }));
            }
        }
        return Piece.alt(choices);
    }

    /**
     * One character of the set written raw: {@code <} excluded, and newlines, which the tool-call parser trims
     * at a value's ends.
     */
    Piece raw() {
        return minus(of('<', '<')).minus(of('\n', '\n')).utf8();
    }

    boolean contains(int c) {
        for (int i = 0; i < ranges.length; i += 2) {
            if (c >= ranges[i] && c <= ranges[i + 1]) {
                return true;
            }
        }
        return false;
    }

    /** The UTF-8 encodings of the set's code points, as sequences of byte ranges. */
    Piece utf8() {
        CharSet set = minus(of(0xD800, 0xDFFF));
        List<Piece> choices = new ArrayList<>();
        int[] limits = {0x7F, 0x7FF, 0xFFFF, MAX};
        for (int i = 0; i < set.ranges.length; i += 2) {
            int lo = set.ranges[i];
            for (int limit : limits) {   // split at the encoded length's boundaries
                if (lo > set.ranges[i + 1]) {
                    break;
                }
                if (lo <= limit) {
                    int hi = Math.min(set.ranges[i + 1], limit);
                    sameLength(lo, hi, choices);
                    lo = hi + 1;
                }
            }
        }
        return choices.size() == 1 ? choices.get(0) : Piece.alt(choices);
    }

    /**
     * Splits {@code [lo, hi]} (one encoded length) until every part is a product of byte ranges: each
     * continuation byte past the first differing one spans its whole range.
     */
    private static void sameLength(int lo, int hi, List<Piece> out) {
        int length = encode(lo).length;
        for (int m = 1; m < length; m++) {
            int mask = (1 << (6 * m)) - 1;
            if ((lo & ~mask) != (hi & ~mask)) {
                if ((lo & mask) != 0) {
                    sameLength(lo, lo | mask, out);
                    sameLength((lo | mask) + 1, hi, out);
                    return;
                }
                if ((hi & mask) != mask) {
                    sameLength(lo, (hi & ~mask) - 1, out);
                    sameLength(hi & ~mask, hi, out);
                    return;
                }
            }
        }
        byte[] a = encode(lo);
        byte[] b = encode(hi);
        Piece[] bytes = new Piece[length];
        for (int i = 0; i < length; i++) {
            bytes[i] = Piece.range(a[i] & 0xff, b[i] & 0xff);
        }
        out.add(length == 1 ? bytes[0] : Piece.seq(bytes));
    }

    private static byte[] encode(int c) {
        return new String(Character.toChars(c)).getBytes(java.nio.charset.StandardCharsets.UTF_8);
    }
}
