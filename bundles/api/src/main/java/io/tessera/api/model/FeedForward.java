package io.tessera.api.model;

import io.tessera.api.kernel.Buffer;
import io.tessera.api.kernel.Rows;
import org.osgi.annotation.versioning.ProviderType;

/** A layer's MLP (dense or MoE). One caller at a time. */
@ProviderType
public interface FeedForward extends AutoCloseable {

    /**
     * {@code out = MLP(normed)} for every row.
     *
     * @param routing where a MoE layer records or replays its expert choice; ignored by dense layers
     */
    void forward(Rows rows, Buffer normed, Buffer out, RoutingControl routing);

    @Override
    void close();
}
