package io.tessera.shell;

import io.tessera.api.tokenizer.Tokenizer;
import io.tessera.api.tokenizer.TokenizerFactory;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;

/** The tokenizer of each model directory, loaded once; forgotten when the tokenizer service changes. */
@Component(service = Tokenizers.class)
public class Tokenizers {
    private final Map<Path, Tokenizer> loaded = new ConcurrentHashMap<>();
    private volatile TokenizerFactory factory;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    void setFactory(TokenizerFactory factory) {
        this.factory = factory;
        loaded.clear();
    }

    void unsetFactory(TokenizerFactory factory) {
        if (this.factory == factory) {
            this.factory = null;
        }
        loaded.clear();
    }

    Tokenizer forModel(Path directory) throws IOException {
        TokenizerFactory f = factory;
        if (f == null) {
            throw new IllegalStateException("no TokenizerFactory service: is the io.tessera.tokenizer bundle active?"
                    + " (or pass token ids with --ids)");
        }
        Tokenizer tokenizer = loaded.get(directory);
        if (tokenizer == null) {
            tokenizer = f.load(directory);
            loaded.put(directory, tokenizer);
        }
        return tokenizer;
    }
}
