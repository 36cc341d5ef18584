package io.tessera.checkpoint;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import io.tessera.api.DType;
import io.tessera.api.checkpoint.CheckpointException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The header of one safetensors file: an 8-byte little-endian length, then that many bytes of JSON mapping each
 * tensor name to {@code dtype}, {@code shape} and {@code data_offsets} (relative to the end of the header).
 * Parsing checks everything a reader relies on, so a tensor view can never reach outside its file.
 */
final class SafetensorsHeader {
    /** Real headers are a few MB (about 100 bytes per tensor); a larger claim is a corrupt or hostile file. */
    static final long MAX_HEADER_BYTES = 100L << 20;
    private static final int MAX_RANK = 8;

    /** One tensor entry; {@code begin}/{@code end} are absolute file offsets. */
    record Entry(String name, DType dtype, long[] shape, long begin, long end) {
    }

    private SafetensorsHeader() {
    }

    /** Reads and checks the header of an open shard of {@code fileSize} bytes. */
    static List<Entry> read(Path file, FileChannel channel, long fileSize) throws CheckpointException {
        try {
            if (fileSize < 8) {
                throw new CheckpointException(file, "truncated: " + fileSize + " bytes, no 8-byte header length");
            }
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            readFully(channel, len, 0);
            long headerBytes = len.getLong(0);
            if (headerBytes < 2 || headerBytes > MAX_HEADER_BYTES) {
                throw new CheckpointException(file, "header length " + Long.toUnsignedString(headerBytes)
                        + " is out of range (2.." + MAX_HEADER_BYTES + " bytes)");
            }
            if (headerBytes > fileSize - 8) {
                throw new CheckpointException(file, "truncated: header length " + headerBytes
                        + " exceeds the " + (fileSize - 8) + " bytes after the length field");
            }
            ByteBuffer json = ByteBuffer.allocate((int) headerBytes);
            readFully(channel, json, 8);
            return parse(file, json.array(), 8 + headerBytes, fileSize);
        } catch (IOException e) {
            throw new CheckpointException(file, "cannot read the header: " + e.getMessage(), e);
        }
    }

    private static void readFully(FileChannel channel, ByteBuffer buffer, long position) throws IOException {
        while (buffer.hasRemaining()) {
            if (channel.read(buffer, position + buffer.position()) < 0) {
                throw new IOException("unexpected end of file");
            }
        }
    }

    /**
     * Parses header JSON whose data section spans file bytes {@code [dataStart, fileSize)}. Entries come back
     * in header order with absolute offsets.
     */
    static List<Entry> parse(Path file, byte[] json, long dataStart, long fileSize) throws CheckpointException {
        List<Entry> entries = new ArrayList<>();
        Set<String> names = new HashSet<>();
        try (JsonParser p = Json.STREAMING.createParser(json)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                throw new CheckpointException(file, "header is not a JSON object");
            }
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String name = p.currentName();
                if (!names.add(name)) {
                    throw new CheckpointException(file, "tensor '" + name + "' appears twice in the header");
                }
                if (p.nextToken() != JsonToken.START_OBJECT) {
                    throw new CheckpointException(file, "tensor '" + name + "': entry is not a JSON object");
                }
                if (name.equals("__metadata__")) {
                    p.skipChildren();
                } else {
                    entries.add(entry(file, p, name, dataStart, fileSize));
                }
            }
            if (p.currentToken() != JsonToken.END_OBJECT || p.nextToken() != null) {
                throw new CheckpointException(file, "header JSON is malformed after " + entries.size() + " tensors");
            }
        } catch (IOException e) {
            throw new CheckpointException(file, "header JSON is malformed: " + Json.message(e), e);
        }
        checkOverlaps(file, entries);
        return entries;
    }

    private static Entry entry(Path file, JsonParser p, String name, long dataStart, long fileSize)
            throws IOException, CheckpointException {
        String where = "tensor '" + name + "': ";
        DType dtype = null;
        long[] shape = null;
        long[] offsets = null;
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String field = p.currentName();
            JsonToken value = p.nextToken();
            switch (field) {
                case "dtype" -> {
                    if (value != JsonToken.VALUE_STRING) {
                        throw new CheckpointException(file, where + "dtype is not a string");
                    }
                    try {
                        dtype = DType.ofSafetensors(p.getText());
                    } catch (IllegalArgumentException e) {
                        throw new CheckpointException(file, where + e.getMessage());
                    }
                }
                case "shape" -> shape = longs(file, p, where + "shape", MAX_RANK);
                case "data_offsets" -> offsets = longs(file, p, where + "data_offsets", 2);
                default -> p.skipChildren();
            }
        }
        if (dtype == null || shape == null || offsets == null) {
            throw new CheckpointException(file, where + "needs dtype, shape and data_offsets");
        }
        if (offsets.length != 2) {
            throw new CheckpointException(file, where + "data_offsets must hold 2 numbers");
        }
        long dataBytes = fileSize - dataStart;
        if (offsets[0] > offsets[1] || offsets[1] > dataBytes) {
            throw new CheckpointException(file, where + "data_offsets [" + offsets[0] + ", " + offsets[1]
                    + "] are outside the data section of " + dataBytes + " bytes");
        }
        long expected = dtype.bytes();
        try {
            for (long d : shape) {
                expected = Math.multiplyExact(expected, d);
            }
        } catch (ArithmeticException e) {
            throw new CheckpointException(file, where + "shape overflows a 64-bit byte count");
        }
        if (expected != offsets[1] - offsets[0]) {
            throw new CheckpointException(file, where + "shape " + java.util.Arrays.toString(shape) + " of "
                    + dtype + " needs " + expected + " bytes but data_offsets span " + (offsets[1] - offsets[0]));
        }
        return new Entry(name, dtype, shape, dataStart + offsets[0], dataStart + offsets[1]);
    }

    /** A JSON array of at most {@code max} non-negative integers. */
    private static long[] longs(Path file, JsonParser p, String what, int max) throws IOException, CheckpointException {
        if (p.currentToken() != JsonToken.START_ARRAY) {
            throw new CheckpointException(file, what + " is not an array");
        }
        long[] values = new long[max];
        int n = 0;
        for (JsonToken t = p.nextToken(); t != JsonToken.END_ARRAY; t = p.nextToken()) {
            if (t != JsonToken.VALUE_NUMBER_INT || p.getNumberType() == JsonParser.NumberType.BIG_INTEGER
                    || p.getLongValue() < 0) {
                throw new CheckpointException(file, what + " must hold non-negative 64-bit integers");
            }
            if (n == max) {
                throw new CheckpointException(file, what + " has more than " + max + " entries");
            }
            values[n++] = p.getLongValue();
        }
        return java.util.Arrays.copyOf(values, n);
    }

    private static void checkOverlaps(Path file, List<Entry> entries) throws CheckpointException {
        List<Entry> byOffset = new ArrayList<>(entries);
        byOffset.removeIf(e -> e.begin() == e.end());
        byOffset.sort(Comparator.comparingLong(Entry::begin));
        for (int i = 1; i < byOffset.size(); i++) {
            Entry a = byOffset.get(i - 1);
            Entry b = byOffset.get(i);
            if (b.begin() < a.end()) {
                throw new CheckpointException(file, "tensors '" + a.name() + "' and '" + b.name()
                        + "' overlap in the data section");
            }
        }
    }
}
