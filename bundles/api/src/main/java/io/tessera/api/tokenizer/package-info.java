/**
 * Tokenizers, chat templates and the output-side parsers of the serving layer.
 * <p>0.2.0: {@link io.tessera.api.tokenizer.Tokenizer#tokenBytes} (constrained decoding).
 * <p>At 0.x while the first wave of implementations reshapes it: minor versions may break.
 */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("0.2.0")
package io.tessera.api.tokenizer;
