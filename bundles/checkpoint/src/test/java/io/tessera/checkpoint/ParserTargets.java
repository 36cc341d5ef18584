package io.tessera.checkpoint;

import io.tessera.api.checkpoint.CheckpointException;
import java.nio.file.Path;

/** The fuzz targets: parse untrusted bytes; only {@link CheckpointException} may escape, and it is swallowed. */
final class ParserTargets {
    private static final Path HEADER = Path.of("fuzz.safetensors");
    private static final Path CONFIG = Path.of("config.json");
    private static final SafetensorsCheckpointLoader LOADER = TestModels.loader();

    private ParserTargets() {
    }

    /** A safetensors header JSON followed by a data section of {@code dataBytes}. */
    static void header(byte[] json, long dataBytes) {
        try {
            SafetensorsHeader.parse(HEADER, json, 8 + json.length, 8 + json.length + dataBytes);
        } catch (CheckpointException expected) {
            // bad input, reported with file and tensor
        }
    }

    /** A config.json, with {@code mtpLayers} MTP blocks counted from a (pretend) index. */
    static void config(byte[] json, int mtpLayers) {
        try {
            LOADER.config(CONFIG, Json.parseObject(CONFIG, json), mtpLayers);
        } catch (CheckpointException expected) {
            // bad input, reported with file and field
        }
    }
}
