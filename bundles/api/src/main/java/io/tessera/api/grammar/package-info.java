/**
 * Structured outputs: grammars compiled from JSON Schema (or plain JSON, or forced tool calls) into token-level
 * constraints over a tokenizer's vocabulary, and JSON Schema validation. The engine applies a request's
 * {@link io.tessera.api.grammar.Grammar} through a {@link io.tessera.api.grammar.GrammarMatcher} per sequence.
 * <p>0.1.0: first version.
 */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("0.1.0")
package io.tessera.api.grammar;
