package io.tessera.tokenizer;

import io.tessera.api.tokenizer.IncrementalDecoder;
import java.util.Arrays;

/** Incremental decode: collects token bytes and emits all but a trailing incomplete UTF-8 sequence. */
final class StreamDecoder implements IncrementalDecoder {
    private final HfTokenizer tokenizer;
    private byte[] pending = new byte[16];
    private int size;

    StreamDecoder(HfTokenizer tokenizer) {
        this.tokenizer = tokenizer;
    }

    @Override
    public String next(int id) {
        byte[] bytes = tokenizer.bytesOf(id);
        if (size + bytes.length > pending.length) {
            pending = Arrays.copyOf(pending, Math.max(pending.length * 2, size + bytes.length));
        }
        System.arraycopy(bytes, 0, pending, size, bytes.length);
        size += bytes.length;
        int end = Utf8.incompleteTail(pending, 0, size);
        if (end == 0) {
            return "";
        }
        String text = Utf8.decode(pending, 0, end);
        System.arraycopy(pending, end, pending, 0, size - end);
        size -= end;
        return text;
    }

    @Override
    public String flush() {
        String text = Utf8.decode(pending, 0, size);
        size = 0;
        return text;
    }
}
