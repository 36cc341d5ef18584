package io.tessera.checkpoint;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/** Writes safetensors files for tests: real data, or sparse files whose data bytes are never written. */
final class SafetensorsWriter {

    /** One tensor to write; {@code data} null leaves its bytes unwritten (a hole of a sparse file). */
    record Spec(String name, String dtype, long[] shape, byte[] data) {
        Spec(String name, String dtype, long... shape) {
            this(name, dtype, shape, null);
        }

        long bytes() {
            long n = switch (dtype) {
                case "F32", "I32" -> 4;
                case "BF16", "F16" -> 2;
                case "F8_E4M3" -> 1;
                case "I64" -> 8;
                default -> throw new IllegalArgumentException(dtype);
            };
            for (long d : shape) {
                n *= d;
            }
            return n;
        }
    }

    private SafetensorsWriter() {
    }

    /** The JSON header for tensors stored back to back in list order. */
    static String header(List<Spec> tensors) {
        StringBuilder json = new StringBuilder(tensors.size() * 120).append("{\"__metadata__\":{\"format\":\"pt\"}");
        long offset = 0;
        for (Spec t : tensors) {
            long end = offset + t.bytes();
            json.append(",\"").append(t.name()).append("\":{\"dtype\":\"").append(t.dtype()).append("\",\"shape\":")
                    .append(Arrays.toString(t.shape()).replace(" ", "")).append(",\"data_offsets\":[")
                    .append(offset).append(',').append(end).append("]}");
            offset = end;
        }
        return json.append('}').toString();
    }

    static void write(Path file, List<Spec> tensors) throws IOException {
        long dataBytes = tensors.stream().mapToLong(Spec::bytes).sum();
        long dataStart = writeRaw(file, header(tensors).getBytes(StandardCharsets.UTF_8), dataBytes);
        try (RandomAccessFile out = new RandomAccessFile(file.toFile(), "rw")) {
            long offset = dataStart;
            for (Spec t : tensors) {
                if (t.data() != null) {
                    out.seek(offset);
                    out.write(t.data());
                }
                offset += t.bytes();
            }
        }
    }

    /**
     * Writes the length field, the header (padded with spaces to 8 bytes, as the reference writer does) and a
     * data section of {@code dataBytes} left sparse. Returns where the data section starts.
     */
    static long writeRaw(Path file, byte[] header, long dataBytes) throws IOException {
        int padded = (header.length + 7) / 8 * 8;
        byte[] json = Arrays.copyOf(header, padded);
        Arrays.fill(json, header.length, padded, (byte) ' ');
        try (RandomAccessFile out = new RandomAccessFile(file.toFile(), "rw")) {
            out.setLength(0);
            out.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(padded).array());
            out.write(json);
            out.setLength(8 + padded + dataBytes);
        }
        return 8 + padded;
    }
}
