package dev.univar.tensor;

import java.util.ArrayList;
import java.util.List;
import java.util.ServiceLoader;

/** Opens backends by device name through the registered {@link BackendProvider}s. */
public final class Backends {
    private Backends() {
    }

    /** Every registered provider, in registration order ("cpu" first). */
    public static List<BackendProvider> providers() {
        List<BackendProvider> list = new ArrayList<>();
        ServiceLoader.load(BackendProvider.class, Backends.class.getClassLoader()).forEach(list::add);
        return list;
    }

    /** The device names this build knows, e.g. [cpu, cuda]. */
    public static List<String> names() {
        return providers().stream().map(BackendProvider::name).toList();
    }

    /**
     * Opens the backend called {@code device}.
     *
     * @throws BackendUnavailableException when no provider has that name, or it cannot open here
     */
    public static TrainingBackend open(String device, BackendOptions options) {
        for (BackendProvider p : providers())
            if (p.name().equalsIgnoreCase(device)) return p.open(options);
        throw new BackendUnavailableException("unknown device '" + device + "': this build has " + String.join(", ", names()));
    }
}
