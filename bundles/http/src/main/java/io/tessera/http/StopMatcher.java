package io.tessera.http;

import java.util.List;

/**
 * Stop strings over streamed text: text is passed on once no stop string can still begin in it; at the first
 * match everything from the match on is dropped and the stream is over.
 */
final class StopMatcher {
    private final List<String> stops;
    private final StringBuilder held = new StringBuilder();
    private boolean stopped;

    StopMatcher(List<String> stops) {
        this.stops = stops;
    }

    boolean stopped() {
        return stopped;
    }

    /** Adds text; returns what can no longer be part of a stop string (empty once stopped). */
    String feed(String fragment) {
        if (stopped) {
            return "";
        }
        held.append(fragment);
        int match = -1;
        for (String s : stops) {
            int at = held.indexOf(s);
            if (at >= 0 && (match < 0 || at < match)) {
                match = at;
            }
        }
        if (match >= 0) {
            stopped = true;
            String out = held.substring(0, match);
            held.setLength(0);
            return out;
        }
        String text = held.toString();
        int keep = 0;                       // longest suffix that is a proper prefix of a stop string
        for (String s : stops) {
            for (int k = Math.min(s.length() - 1, text.length()); k > keep; k--) {
                if (text.regionMatches(text.length() - k, s, 0, k)) {
                    keep = k;
                    break;
                }
            }
        }
        held.delete(0, text.length() - keep);
        return text.substring(0, text.length() - keep);
    }

    /** Ends the stream: what was held back (it never completed a stop string). */
    String flush() {
        String out = stopped ? "" : held.toString();
        held.setLength(0);
        return out;
    }
}
