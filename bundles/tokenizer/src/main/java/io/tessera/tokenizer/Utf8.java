package io.tessera.tokenizer;

/** UTF-8 helpers shared by the full and the incremental decoder. */
final class Utf8 {
    private Utf8() {
    }

    /**
     * Lossy decoding as Rust's String::from_utf8_lossy: each maximal prefix of a valid sequence that is cut short
     * (by a bad byte or the end) becomes one U+FFFD, and so does each byte that cannot start a sequence.
     */
    static String decode(byte[] bytes, int from, int to) {
        StringBuilder out = new StringBuilder(to - from);
        int i = from;
        while (i < to) {
            int b = bytes[i] & 0xFF;
            if (b < 0x80) {
                out.append((char) b);
                i++;
                continue;
            }
            int need = b >= 0xC2 && b <= 0xDF ? 2 : b >= 0xE0 && b <= 0xEF ? 3 : b >= 0xF0 && b <= 0xF4 ? 4 : 0;
            if (need == 0) {
                out.append('\uFFFD');
                i++;
                continue;
            }
            int cp = b & (0xFF >> (need + 1));
            int j = i + 1;
            for (; j < i + need; j++) {
                if (j >= to || !continues(b, j - i, bytes[j] & 0xFF)) {
                    break;
                }
                cp = (cp << 6) | (bytes[j] & 0x3F);
            }
            if (j < i + need) {
                out.append('\uFFFD');
                i = j;
            } else {
                out.appendCodePoint(cp);
                i += need;
            }
        }
        return out.toString();
    }

    /** Whether c may be byte k (1-based after the lead) of a sequence led by lead. */
    private static boolean continues(int lead, int k, int c) {
        int lo = 0x80;
        int hi = 0xBF;
        if (k == 1) {
            switch (lead) {
                case 0xE0 -> lo = 0xA0;
                case 0xED -> hi = 0x9F;
                case 0xF0 -> lo = 0x90;
                case 0xF4 -> hi = 0x8F;
                default -> {
                }
            }
        }
        return c >= lo && c <= hi;
    }

    /**
     * Where a trailing incomplete sequence starts: the index of a lead byte near the end whose sequence is still
     * valid so far but too short; {@code to} when the bytes end on a boundary (or in an invalid sequence, which
     * more bytes cannot repair).
     */
    static int incompleteTail(byte[] bytes, int from, int to) {
        for (int start = to - 1; start >= Math.max(from, to - 3); start--) {
            int b = bytes[start] & 0xFF;
            if (b < 0x80) {
                return to;
            }
            if (b < 0xC0) {
                continue; // continuation byte: look further back for its lead
            }
            int need = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : 2;
            if (b < 0xC2 || b > 0xF4 || to - start >= need) {
                return to;
            }
            for (int i = start + 1; i < to; i++) {
                if (!continues(b, i - start, bytes[i] & 0xFF)) {
                    return to;
                }
            }
            return start;
        }
        return to;
    }

    /** Replaces each unpaired UTF-16 surrogate with U+FFFD (Rust's String::from_utf16_lossy). */
    static String replaceLoneSurrogates(String s) {
        char[] chars = null;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                i++;
            } else if (Character.isSurrogate(c)) {
                if (chars == null) {
                    chars = s.toCharArray();
                }
                chars[i] = '\uFFFD';
            }
        }
        return chars == null ? s : new String(chars);
    }
}
