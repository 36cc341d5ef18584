package io.tessera.api.model;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * Routing record and replay (R3) for one step. A MoE layer calls {@link #replay} before routing; if it returns
 * ids it uses them, otherwise it routes and then reports its choice to {@link #record}.
 */
@ConsumerType
public interface RoutingControl {
    /** No recording, no replay. */
    RoutingControl NONE = new RoutingControl() {
        @Override
        public int[] replay(int layer, int rows) {
            return null;
        }

        @Override
        public void record(int layer, int rows, int[] ids) {
        }

        @Override
        public boolean recording() {
            return false;
        }
    };

    /** Expert ids {@code [rows × k]} to force at this layer, or null to route normally. */
    int[] replay(int layer, int rows);

    /** Whether {@link #record} wants the ids (reading them back costs a device wait). */
    boolean recording();

    /** The experts chosen at this layer, {@code [rows × k]} row-major. */
    void record(int layer, int rows, int[] ids);
}
