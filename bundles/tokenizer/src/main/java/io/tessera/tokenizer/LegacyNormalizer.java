package io.tessera.tokenizer;

import java.text.Normalizer;
import java.util.function.UnaryOperator;

/**
 * Unicode normalization as the reference computes it. Hugging Face tokenizers normalizes with Unicode tables
 * older than Unicode 10, java.text.Normalizer with Unicode 16; the marks and letters below were assigned since and
 * have combining classes or compositions in Java that the reference does not know, so it treats them as
 * unassigned starters. Here they are kept as they are and the text between them is normalized on its own, which
 * is what a starter without composition does. The list is derived by tools/tokenizer/normalizer_diff (every code
 * point, and every canonical decomposition, normalized by both sides); it was checked for NFC.
 */
final class LegacyNormalizer implements UnaryOperator<String> {
    /** Inclusive code point ranges, sorted. */
    private static final int[] UNKNOWN_TO_REFERENCE = {
        0x7FD, 0x7FD, 0x897, 0x89F, 0x8CA, 0x8D3, 0x9FE, 0x9FE, 0xC3C, 0xC3C, 0xD3B, 0xD3C, 0xEBA, 0xEBA,
        0x1715, 0x1715, 0x1ABF, 0x1ACE, 0x1DF6, 0x1DFA, 0xA82C, 0xA82C, 0x105D2, 0x105D2, 0x105DA, 0x105DA,
        0x10D24, 0x10D27, 0x10D69, 0x10D6D, 0x10EAB, 0x10EAC, 0x10EFD, 0x10EFF, 0x10F46, 0x10F50, 0x10F82, 0x10F85,
        0x11070, 0x11070, 0x1133B, 0x1133B, 0x11382, 0x11382, 0x11384, 0x11384, 0x1138B, 0x1138B, 0x11390, 0x11390,
        0x113B8, 0x113B8, 0x113BB, 0x113BB, 0x113C2, 0x113C2, 0x113C9, 0x113C9, 0x113CE, 0x113D0, 0x1145E, 0x1145E,
        0x11839, 0x1183A, 0x11930, 0x11930, 0x11935, 0x11935, 0x1193D, 0x1193E, 0x11943, 0x11943, 0x119E0, 0x119E0,
        0x11A34, 0x11A34, 0x11A47, 0x11A47, 0x11A99, 0x11A99, 0x11D42, 0x11D42, 0x11D44, 0x11D45, 0x11D97, 0x11D97,
        0x11F41, 0x11F42, 0x1611E, 0x16120, 0x16129, 0x16129, 0x1612F, 0x1612F, 0x16D63, 0x16D63, 0x16D67, 0x16D67,
        0x16FF0, 0x16FF1, 0x1E08F, 0x1E08F, 0x1E130, 0x1E136, 0x1E2AE, 0x1E2AE, 0x1E2EC, 0x1E2EF, 0x1E4EC, 0x1E4EF,
        0x1E5EE, 0x1E5EF,
    };

    private final Normalizer.Form form;

    LegacyNormalizer(Normalizer.Form form) {
        this.form = form;
    }

    @Override
    public String apply(String s) {
        StringBuilder out = null;
        int start = 0;
        for (int i = 0; i < s.length(); ) {
            int c = s.codePointAt(i);
            int next = i + Character.charCount(c);
            if (c >= UNKNOWN_TO_REFERENCE[0] && unknown(c)) {
                if (out == null) {
                    out = new StringBuilder(s.length());
                }
                out.append(Normalizer.normalize(s.substring(start, i), form)).appendCodePoint(c);
                start = next;
            }
            i = next;
        }
        if (out == null) {
            return Normalizer.normalize(s, form);
        }
        return out.append(Normalizer.normalize(s.substring(start), form)).toString();
    }

    private static boolean unknown(int c) {
        int lo = 0;
        int hi = UNKNOWN_TO_REFERENCE.length / 2 - 1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            if (c < UNKNOWN_TO_REFERENCE[2 * mid]) {
                hi = mid - 1;
            } else if (c > UNKNOWN_TO_REFERENCE[2 * mid + 1]) {
                lo = mid + 1;
            } else {
                return true;
            }
        }
        return false;
    }
}
