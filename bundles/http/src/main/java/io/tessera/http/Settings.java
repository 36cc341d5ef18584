package io.tessera.http;

import java.util.ArrayList;
import java.util.List;

/** Checked {@link HttpSettings}: a configuration with a bad value is refused as a whole, naming every bad key. */
record Settings(String host, int port, String apiKey, int maxBodyBytes, int maxTokens, int maxPromptTokens,
                int maxChoices) {

    static Settings of(HttpSettings c) {
        List<String> bad = new ArrayList<>();
        String host = c.host() == null ? "" : c.host().strip();
        if (host.isEmpty() || !host.matches("[A-Za-z0-9.:\\-\\[\\]]+")) {
            bad.add("host: not an address or host name: '" + c.host() + "'");
        }
        if (c.port() < 1 || c.port() > 65535) {
            bad.add("port: must be 1-65535, got " + c.port());
        }
        if (c.maxBodyBytes() < 1024) {
            bad.add("maxBodyBytes: must be >= 1024, got " + c.maxBodyBytes());
        }
        if (c.maxTokens() < 1) {
            bad.add("maxTokens: must be >= 1, got " + c.maxTokens());
        }
        if (c.maxPromptTokens() < 1) {
            bad.add("maxPromptTokens: must be >= 1, got " + c.maxPromptTokens());
        }
        if (c.maxChoices() < 1 || c.maxChoices() > 128) {
            bad.add("maxChoices: must be 1-128, got " + c.maxChoices());
        }
        if (!bad.isEmpty()) {
            throw new IllegalArgumentException(String.join("; ", bad));
        }
        return new Settings(host, c.port(), c.apiKey() == null ? "" : c.apiKey().strip(), c.maxBodyBytes(),
                c.maxTokens(), c.maxPromptTokens(), c.maxChoices());
    }
}
