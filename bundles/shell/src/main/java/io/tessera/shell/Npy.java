package io.tessera.shell;

import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/** Writes a float32 C-order {@code .npy} (format 1.0) row by row, so a [positions, vocab] array never sits in heap. */
final class Npy implements AutoCloseable {
    private final DataOutputStream out;
    private final ByteBuffer row;

    Npy(OutputStream stream, int rows, int cols) throws IOException {
        out = new DataOutputStream(stream);
        String dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + rows + ", " + cols + "), }";
        int total = 10 + dict.length() + 1;
        String header = dict + " ".repeat((64 - total % 64) % 64) + "\n";   // pad so the data starts 64-aligned
        out.write(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0});
        out.write(header.length() & 0xff);
        out.write(header.length() >>> 8);
        out.write(header.getBytes(StandardCharsets.US_ASCII));
        row = ByteBuffer.allocate(cols * 4).order(ByteOrder.LITTLE_ENDIAN);
    }

    void writeRow(float[] values) throws IOException {
        row.clear();
        row.asFloatBuffer().put(values, 0, row.capacity() / 4);
        out.write(row.array());
    }

    @Override
    public void close() throws IOException {
        out.close();
    }
}
