package io.tessera.checkpoint;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import org.junit.jupiter.api.Tag;

/**
 * Jazzer fuzz targets for the two parsers of untrusted input; on demand only (tag {@code jazzer}, see the README):
 * Jazzer 0.24.0 cannot instrument class files of JDK 25 (major version 69), so it fuzzes without coverage
 * feedback from this bundle's code. The suite runs {@link MutationFuzzTest} instead.
 */
@Tag("jazzer")
class ParserFuzzTest {

    @FuzzTest(maxDuration = "10s")
    void safetensorsHeader(FuzzedDataProvider data) {
        long dataBytes = data.consumeLong(0, 1L << 40);
        ParserTargets.header(data.consumeRemainingAsBytes(), dataBytes);
    }

    @FuzzTest(maxDuration = "10s")
    void modelConfig(FuzzedDataProvider data) {
        int mtpLayers = data.consumeInt(0, 8);
        ParserTargets.config(data.consumeRemainingAsBytes(), mtpLayers);
    }
}
