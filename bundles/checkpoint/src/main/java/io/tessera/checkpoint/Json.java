package io.tessera.checkpoint;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tessera.api.checkpoint.CheckpointException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/** Reading the small JSON files of a checkpoint (config, index) with bounded size and depth. */
final class Json {
    /** config.json is a few KB and the index of the real model about 10 MB. */
    static final long MAX_FILE_BYTES = 64L << 20;
    private static final ObjectMapper MAPPER = new ObjectMapper(JsonFactory.builder()
            .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(32).build()).build());

    private Json() {
    }

    /**
     * For big objects of unique keys (safetensors headers, the index's weight map): canonicalizing and interning
     * 10^5 distinct tensor names would only cost time and heap.
     */
    static final JsonFactory STREAMING = JsonFactory.builder()
            .disable(JsonFactory.Feature.CANONICALIZE_FIELD_NAMES).disable(JsonFactory.Feature.INTERN_FIELD_NAMES)
            .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(16).build()).build();

    /** Reads and parses a JSON file whose top level must be an object. */
    static JsonNode readObject(Path file) throws CheckpointException {
        return parseObject(file, read(file));
    }

    /** The bytes of a JSON file of at most {@link #MAX_FILE_BYTES}. */
    static byte[] read(Path file) throws CheckpointException {
        try {
            long size = Files.size(file);
            if (size > MAX_FILE_BYTES) {
                throw new CheckpointException(file, "file is " + size + " bytes, more than the " + MAX_FILE_BYTES
                        + " a JSON file of a checkpoint may have");
            }
            return Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new CheckpointException(file, "file not found", e);
        } catch (IOException e) {
            throw new CheckpointException(file, "cannot read: " + e.getMessage(), e);
        }
    }

    static JsonNode parseObject(Path file, byte[] bytes) throws CheckpointException {
        JsonNode root;
        try {
            root = MAPPER.readTree(bytes);
        } catch (IOException e) {
            throw new CheckpointException(file, "malformed JSON: " + message(e), e);
        }
        if (root == null || !root.isObject()) {
            throw new CheckpointException(file, "top level is not a JSON object");
        }
        return root;
    }

    /** The parser's message without Jackson's source-location suffix (which would echo raw input). */
    static String message(IOException e) {
        return e instanceof JsonProcessingException j ? j.getOriginalMessage() + " at " + location(j) : e.getMessage();
    }

    private static String location(JsonProcessingException e) {
        return e.getLocation() == null ? "?" : "line " + e.getLocation().getLineNr() + " column "
                + e.getLocation().getColumnNr();
    }
}
