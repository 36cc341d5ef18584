package io.tessera.grammar;

import io.tessera.api.grammar.GrammarMatcher;
import java.util.Arrays;

/** One output's position in a {@link CompiledGrammar}: the automaton state after each accepted token. */
final class Matcher implements GrammarMatcher {
    private final CompiledGrammar grammar;
    private int[] history = new int[16];
    private int length;

    Matcher(CompiledGrammar grammar, int start) {
        this.grammar = grammar;
        history[0] = start;
        length = 1;
    }

    @Override
    public void fillMask(int[] bits) {
        grammar.mask(history[length - 1], bits);
    }

    @Override
    public boolean accept(int token) {
        int next = grammar.advance(history[length - 1], token);
        if (next == Automaton.DEAD) {
            return false;
        }
        if (length == history.length) {
            history = Arrays.copyOf(history, length * 2);
        }
        history[length++] = next;
        return true;
    }

    @Override
    public boolean complete() {
        return grammar.accepting(history[length - 1]);
    }

    @Override
    public void rollback(int tokens) {
        if (tokens < 0 || tokens >= length) {
            throw new IllegalArgumentException("cannot roll back " + tokens + " of " + (length - 1) + " tokens");
        }
        length -= tokens;
    }
}
