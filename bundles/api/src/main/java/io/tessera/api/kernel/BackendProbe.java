package io.tessera.api.kernel;

import org.osgi.annotation.versioning.ProviderType;

/**
 * Registered by a backend bundle for its backend whether or not the backend could start, so that operators see
 * why one is missing (no device, no driver, a failed self-test) next to those that are registered.
 */
@ProviderType
public interface BackendProbe {
    /** The backend's name, as its {@value KernelBackend#BACKEND} service property would be. */
    String backend();

    /** {@code "available (<device>)"} or {@code "unavailable: <reason> (<detail>)"}. */
    String status();
}
