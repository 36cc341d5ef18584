package io.tessera.grammar;

import io.tessera.api.grammar.GrammarException;
import java.util.Arrays;

/**
 * A byte-level grammar as a graph: nodes joined by byte-range edges, ε edges and rule calls (a call edge enters
 * a rule at its start and continues at its target once the rule reaches its end). Rules make recursion
 * ({@code $ref}) possible: the automaton keeps a stack of return nodes. Built once, then read only.
 */
final class Nfa {
    static final int MAX_NODES = 250_000;

    // per node: byte edges (lo, hi, target), ε targets, calls (rule, target), packed in growing int lists
    private int nodes;
    private int[][] byteEdges = new int[64][];
    private int[][] epsilons = new int[64][];
    private int[][] calls = new int[64][];
    private int[] ruleStart = new int[8];
    private int[] ruleEnd = new int[8];
    private int[] endOfRule = new int[64];   // rule whose end this node is, or −1
    private int rules;

    int newNode() {
        if (nodes == MAX_NODES) {
            throw new GrammarException("maxNodes", "schema too large: its grammar needs more than " + MAX_NODES
                    + " automaton nodes (long strings, big counts or deep nesting)");
        }
        if (nodes == byteEdges.length) {
            int n = nodes * 2;
            byteEdges = Arrays.copyOf(byteEdges, n);
            epsilons = Arrays.copyOf(epsilons, n);
            calls = Arrays.copyOf(calls, n);
            endOfRule = Arrays.copyOf(endOfRule, n);
        }
        endOfRule[nodes] = -1;
        return nodes++;
    }

    /** A new rule with its start and end nodes; its body is emitted between them. */
    int newRule() {
        if (rules == ruleStart.length) {
            ruleStart = Arrays.copyOf(ruleStart, rules * 2);
            ruleEnd = Arrays.copyOf(ruleEnd, rules * 2);
        }
        ruleStart[rules] = newNode();
        ruleEnd[rules] = newNode();
        endOfRule[ruleEnd[rules]] = rules;
        return rules++;
    }

    int ruleStart(int rule) {
        return ruleStart[rule];
    }

    int ruleEnd(int rule) {
        return ruleEnd[rule];
    }

    void bytes(int from, int lo, int hi, int to) {
        byteEdges[from] = append(byteEdges[from], lo, hi, to);
    }

    void epsilon(int from, int to) {
        epsilons[from] = append(epsilons[from], to);
    }

    void call(int from, int rule, int to) {
        calls[from] = append(calls[from], rule, to);
    }

    /** Byte edges of a node as (lo, hi, target) triples, or null. */
    int[] byteEdges(int node) {
        return byteEdges[node];
    }

    int[] epsilons(int node) {
        return epsilons[node];
    }

    /** Calls of a node as (rule, target) pairs, or null. */
    int[] calls(int node) {
        return calls[node];
    }

    /** Whether the node is the end of a rule (reaching it returns to the caller). */
    boolean isRuleEnd(int node) {
        return endOfRule[node] >= 0;
    }

    int nodeCount() {
        return nodes;
    }

    private static int[] append(int[] list, int... values) {
        int[] out = list == null ? new int[values.length] : Arrays.copyOf(list, list.length + values.length);
        System.arraycopy(values, 0, out, out.length - values.length, values.length);
        return out;
    }
}
