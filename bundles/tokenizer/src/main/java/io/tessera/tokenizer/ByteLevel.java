package io.tessera.tokenizer;

/**
 * GPT-2's byte-to-unicode table used by byte-level BPE: every byte gets a printable character, so that the BPE
 * vocabulary holds strings. Printable Latin-1 bytes map to themselves, the rest to U+0100 and up, in byte order.
 */
final class ByteLevel {
    /** The character standing for each byte. */
    private static final char[] BYTE_TO_CHAR = new char[256];
    /** The byte for each character below 0x144, or -1. */
    private static final int[] CHAR_TO_BYTE = new int[0x144];

    static {
        java.util.Arrays.fill(CHAR_TO_BYTE, -1);
        int extra = 0;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            char c = printable ? (char) b : (char) (256 + extra++);
            BYTE_TO_CHAR[b] = c;
            CHAR_TO_BYTE[c] = b;
        }
    }

    private ByteLevel() {
    }

    static char charOf(int b) {
        return BYTE_TO_CHAR[b & 0xFF];
    }

    /** The bytes a token string stands for, or null when some character is not in the table. */
    static byte[] bytesOf(String token) {
        byte[] out = new byte[token.length()];
        for (int i = 0; i < token.length(); i++) {
            char c = token.charAt(i);
            if (c >= CHAR_TO_BYTE.length || CHAR_TO_BYTE[c] < 0) {
                return null;
            }
            out[i] = (byte) CHAR_TO_BYTE[c];
        }
        return out;
    }

    /** The byte-level string of UTF-8 bytes. */
    static String stringOf(byte[] bytes) {
        char[] chars = new char[bytes.length];
        for (int i = 0; i < bytes.length; i++) {
            chars[i] = charOf(bytes[i]);
        }
        return new String(chars);
    }
}
