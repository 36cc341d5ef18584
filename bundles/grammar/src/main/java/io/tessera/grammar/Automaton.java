package io.tessera.grammar;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * The pushdown automaton of an {@link Nfa}, determinised lazily: a state is the set of stacks (a node with byte
 * edges on top of its return nodes) the input so far can be in, plus whether the grammar may end there. Stacks
 * and states are interned, so a state is an int and its byte transitions are cached table lookups: walking the
 * vocabulary trie costs one array read per trie node once a state's transitions are known. Not thread-safe:
 * {@link CompiledGrammar} serialises access.
 */
final class Automaton {
    static final int DEAD = -1;
    /** Deepest stack of rule calls: bounds recursion ({@code $ref}, nested JSON) and the number of states. */
    static final int MAX_DEPTH = 96;
    /** Transition tables kept before they are dropped and recomputed on demand (1 KiB each). */
    private static final int MAX_TABLES = 32_768;

    private final Nfa nfa;
    private final int start;

    private int[] stackNode = new int[256];
    private int[] stackParent = new int[256];
    private int[] stackDepth = new int[256];
    private int stacks;
    private final LongIntMap stackIds = new LongIntMap();

    private int[][] stateStacks = new int[64][];
    private boolean[] stateAccepting = new boolean[64];
    private int[][] transitions = new int[64][];   // per state: 0 unknown, −1 dead, else next state + 1
    private int states;
    private int tables;
    private final Map<StateKey, Integer> stateIds = new HashMap<>();

    // closure scratch: the (node, stack) pairs visited
    private final LongIntMap visited = new LongIntMap();
    private int[] found = new int[16];
    private int foundCount;
    private boolean foundAccepting;

    Automaton(Nfa nfa, int rootRule) {
        this.nfa = nfa;
        begin();
        closure(nfa.ruleStart(rootRule), -1);
        start = finish();
    }

    int start() {
        return start;
    }

    /** Whether the grammar may end in this state. */
    boolean accepting(int state) {
        return stateAccepting[state];
    }

    /** Whether some byte may still follow in this state. */
    boolean open(int state) {
        return stateStacks[state].length > 0;
    }

    int stateCount() {
        return states;
    }

    /** The state after byte {@code b} (0–255), or {@link #DEAD}. */
    int next(int state, int b) {
        int[] table = transitions[state];
        if (table == null) {
            if (tables == MAX_TABLES) {
                Arrays.fill(transitions, 0, states, null);
                tables = 0;
            }
            table = transitions[state] = new int[256];
            tables++;
            deadBytes(state, table);
        }
        int t = table[b];
        if (t == 0) {
            t = step(state, b) + 1;
            table[b] = t == 0 ? -1 : t;   // DEAD + 1 == 0: store −1
            t = table[b];
        }
        return t < 0 ? DEAD : t - 1;
    }

    /** Marks dead at once the bytes no edge of the state's stacks takes (most bytes, in most states). */
    private void deadBytes(int state, int[] table) {
        Arrays.fill(table, -1);
        for (int s : stateStacks[state]) {
            int[] edges = nfa.byteEdges(stackNode[s]);
            for (int e = 0; e < edges.length; e += 3) {
                Arrays.fill(table, edges[e], edges[e + 1] + 1, 0);
            }
        }
    }

    private int step(int state, int b) {
        begin();
        for (int s : stateStacks[state]) {
            int[] edges = nfa.byteEdges(stackNode[s]);
            for (int e = 0; e < edges.length; e += 3) {
                if (b >= edges[e] && b <= edges[e + 1]) {
                    closure(edges[e + 2], stackParent[s]);
                }
            }
        }
        if (foundCount == 0 && !foundAccepting) {
            return DEAD;
        }
        return finish();
    }

    private void begin() {
        visited.clear();
        foundCount = 0;
        foundAccepting = false;
    }

    /** Follows ε edges, calls and rule ends from {@code node} over the stack {@code parent}. */
    private void closure(int node, int parent) {
        if (visited.put(((long) node << 32) | (parent & 0xffffffffL), 1) != LongIntMap.MISSING) {
            return;
        }
        if (nfa.isRuleEnd(node)) {
            if (parent < 0) {
                foundAccepting = true;
            } else {
                closure(stackNode[parent], stackParent[parent]);
            }
        }
        int[] eps = nfa.epsilons(node);
        if (eps != null) {
            for (int target : eps) {
                closure(target, parent);
            }
        }
        int[] calls = nfa.calls(node);
        if (calls != null) {
            int depth = parent < 0 ? 0 : stackDepth[parent];
            for (int c = 0; c < calls.length && depth < MAX_DEPTH; c += 2) {
                closure(nfa.ruleStart(calls[c]), stack(calls[c + 1], parent));
            }
        }
        if (nfa.byteEdges(node) != null) {
            if (foundCount == found.length) {
                found = Arrays.copyOf(found, foundCount * 2);
            }
            found[foundCount++] = stack(node, parent);
        }
    }

    private int stack(int node, int parent) {
        long key = ((long) node << 32) | (parent & 0xffffffffL);
        int id = stackIds.get(key);
        if (id != LongIntMap.MISSING) {
            return id;
        }
        if (stacks == stackNode.length) {
            stackNode = Arrays.copyOf(stackNode, stacks * 2);
            stackParent = Arrays.copyOf(stackParent, stacks * 2);
            stackDepth = Arrays.copyOf(stackDepth, stacks * 2);
        }
        stackNode[stacks] = node;
        stackParent[stacks] = parent;
        stackDepth[stacks] = parent < 0 ? 1 : stackDepth[parent] + 1;
        stackIds.put(key, stacks);
        return stacks++;
    }

    /** Interns the set of stacks found by the closures since {@link #begin()}. */
    private int finish() {
        int[] set = Arrays.copyOf(found, foundCount);
        Arrays.sort(set);
        int n = 0;
        for (int i = 0; i < set.length; i++) {
            if (i == 0 || set[i] != set[i - 1]) {
                set[n++] = set[i];
            }
        }
        StateKey key = new StateKey(Arrays.copyOf(set, n), foundAccepting);
        Integer id = stateIds.get(key);
        if (id != null) {
            return id;
        }
        if (states == stateStacks.length) {
            stateStacks = Arrays.copyOf(stateStacks, states * 2);
            stateAccepting = Arrays.copyOf(stateAccepting, states * 2);
            transitions = Arrays.copyOf(transitions, states * 2);
        }
        stateStacks[states] = key.stacks;
        stateAccepting[states] = key.accepting;
        stateIds.put(key, states);
        return states++;
    }

    private record StateKey(int[] stacks, boolean accepting) {
        @Override
        public boolean equals(Object o) {
            return o instanceof StateKey k && k.accepting == accepting && Arrays.equals(k.stacks, stacks);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(stacks) * 2 + (accepting ? 1 : 0);
        }
    }
}
