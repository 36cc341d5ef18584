package io.tessera.tokenizer;

import io.tessera.api.tokenizer.Tokenizer;
import io.tessera.api.tokenizer.TokenizerFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.LinkedHashMap;
import java.util.Map;
import org.osgi.service.component.annotations.Component;

/**
 * The TokenizerFactory service. Loaded tokenizers are cached per path (the few most recently used), and reloaded
 * when the file changes.
 */
@Component(service = TokenizerFactory.class)
public class TokenizerFactoryComponent implements TokenizerFactory {
    private static final int CACHE_SIZE = 8;

    private record Cached(FileTime modified, Tokenizer tokenizer) {
    }

    private final Map<Path, Cached> cache = new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Path, Cached> eldest) {
            return size() > CACHE_SIZE;
        }
    };

    @Override
    public Tokenizer load(Path path) throws IOException {
        Path key = path.toAbsolutePath().normalize();
        Path file = Files.isDirectory(key) ? key.resolve("tokenizer.json") : key;
        FileTime modified = Files.exists(file) ? Files.getLastModifiedTime(file) : null;
        synchronized (cache) {
            Cached e = cache.get(key);
            if (e != null && e.modified().equals(modified)) {
                return e.tokenizer();
            }
        }
        Tokenizer tokenizer = TokenizerLoader.load(key);
        synchronized (cache) {
            cache.put(key, new Cached(modified, tokenizer));
        }
        return tokenizer;
    }
}
