package io.tessera.kernels.cuda;

import io.tessera.api.kernel.BackendProbe;
import io.tessera.api.kernel.KernelBackend;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.Hashtable;
import java.util.Map;
import org.apache.felix.service.command.Descriptor;
import org.osgi.framework.BundleContext;
import org.osgi.framework.Constants;
import org.osgi.framework.ServiceRegistration;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Decides at activation whether this machine runs the CUDA backend (driver, device, NVRTC, kernels, self-test; see
 * {@link CudaProbe}) and, only then, registers it as a {@link KernelBackend} with {@code backend=cuda} and
 * {@code service.ranking=200}. Otherwise nothing is registered, the bundle stays active, and {@link #status()}
 * (Gogo: {@code cuda:status}) says why in one line.
 *
 * <p>Configuration (PID {@code io.tessera.kernels.cuda.CudaDriverProbe}): {@code cache.folder}, the compiled-kernel
 * cache (default the system property {@code tessera.cuda.cache}, else {@code ${user.home}/.cache/tessera/cuda});
 * {@code prebuilt.folder} (or {@code tessera.cuda.prebuilt}), the build's sm_90a CUBINs for Hopper machines without
 * NVRTC ({@code kernels-cuda/target/cubin}).
 */
@Component(service = {CudaDriverProbe.class, BackendProbe.class}, immediate = true,
        property = {"osgi.command.scope=cuda", "osgi.command.function=status"})
public class CudaDriverProbe implements BackendProbe {
    static final int RANKING = 200;
    private static final Logger LOG = LoggerFactory.getLogger(CudaDriverProbe.class);

    private final String status;
    private final CudaBackend backend;
    private final ServiceRegistration<KernelBackend> registration;

    @Activate
    public CudaDriverProbe(BundleContext context, Map<String, Object> config) {
        CudaProbe.Outcome outcome = CudaProbe.probe(CudaLibraries.ofSystem(), CudaProbe.SYSTEM_LOADER, Arena.global(),
                cacheFolder(config), prebuiltFolder(config));
        status = outcome.message();
        backend = outcome.backend();
        LOG.info("CUDA backend: {}", status);
        if (backend != null) {
            Hashtable<String, Object> props = new Hashtable<>();
            props.put(KernelBackend.BACKEND, backend.name());
            props.put(Constants.SERVICE_RANKING, RANKING);
            registration = context.registerService(KernelBackend.class, backend, props);
        } else {
            registration = null;
        }
    }

    static Path cacheFolder(Map<String, Object> config) {
        Object folder = config.get("cache.folder");
        if (folder == null) {
            folder = System.getProperty("tessera.cuda.cache");
        }
        return folder == null ? KernelCache.defaultFolder() : Path.of(folder.toString());
    }

    /** {@code prebuilt.folder} or the system property {@code tessera.cuda.prebuilt}: sm_90a CUBINs, or null. */
    static Path prebuiltFolder(Map<String, Object> config) {
        Object folder = config.getOrDefault("prebuilt.folder", System.getProperty("tessera.cuda.prebuilt"));
        return folder == null ? null : Path.of(folder.toString());
    }

    @Deactivate
    void deactivate() {
        if (registration != null) {
            registration.unregister();
        }
        if (backend != null) {
            backend.close();  // the libraries stay loaded: drivers and cuBLAS do not support being unloaded
        }
    }

    @Override
    public String backend() {
        return "cuda";
    }

    /** {@code "available (...)"} or {@code "unavailable: <reason> (<detail>)"}. */
    @Override
    @Descriptor("says whether the CUDA backend is registered, on which device, or why not")
    public String status() {
        return status;
    }
}
