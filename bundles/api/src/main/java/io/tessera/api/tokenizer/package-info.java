/**
 * Tokenizers, chat templates and the output-side parsers of the serving layer.
 *
 * <h2>Who implements what</h2>
 * Every interface here is a {@code @ProviderType}, implemented by the tokenizer bundle and only called by the
 * engine, shell and HTTP bundles: {@link io.tessera.api.tokenizer.TokenizerFactory} (the service),
 * {@link io.tessera.api.tokenizer.Tokenizer}, {@link io.tessera.api.tokenizer.IncrementalDecoder} and
 * {@link io.tessera.api.tokenizer.OutputParser} (objects the factory makes).
 *
 * <h2>How versions move</h2>
 * As described for {@link io.tessera.api.kernel}: a method added to a provider type is a minor step; a changed
 * or removed member is a major step (a new record component only if the previous constructor goes); checked by bnd baselining against {@code cnf/baseline}.
 *
 * <h2>Changes</h2>
 * <ul>
 * <li>0.2.0: {@link io.tessera.api.tokenizer.Tokenizer#encodeWithSpecialTokens} (the {@code post_processor}'s
 *     special tokens, e.g. Llama 3's {@code <|begin_of_text|>}, around a plain-text prompt);
 *     {@link io.tessera.api.tokenizer.Tokenizer#tokenBytes} (constrained decoding);
 *     {@link io.tessera.api.tokenizer.Tokenizer#encodeChat} (special-token text inside messages is plain text).</li>
 * </ul>
 */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("0.2.0")
package io.tessera.api.tokenizer;
