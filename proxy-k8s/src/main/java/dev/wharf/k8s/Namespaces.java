package dev.wharf.k8s;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.regex.Pattern;

/** Which namespaces the ConfigMap source watches. */
public final class Namespaces {
    /** Where Kubernetes mounts the pod's own namespace. */
    public static final Path SERVICE_ACCOUNT_NAMESPACE =
            Path.of("/var/run/secrets/kubernetes.io/serviceaccount/namespace");
    private static final Pattern DNS_LABEL = Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?");
    private static final int MAX_LENGTH = 63;

    private Namespaces() {
    }

    /**
     * The namespaces named by {@code --namespace} flags (each may hold a comma-separated list),
     * sorted and without repeats; without flags, those of {@code wharf.kubernetes.namespaces}
     * ({@code configured}, already validated); without either, the pod's own namespace, read
     * from {@code serviceAccountFile}, else from {@code POD_NAMESPACE}.
     *
     * @throws IllegalArgumentException naming what was wrong or what to set
     */
    public static List<String> resolve(List<String> flags, List<String> configured, Path serviceAccountFile,
                                       Map<String, String> env) {
        TreeSet<String> names = new TreeSet<>();
        for (String flag : flags) {
            for (String part : flag.split(",", -1)) {
                String name = part.trim();
                if (!DNS_LABEL.matcher(name).matches() || name.length() > MAX_LENGTH) {
                    throw new IllegalArgumentException("--namespace " + flag + ": \"" + name + "\" is not a namespace name"
                            + " (expected: lowercase letters, digits and '-', at most 63, comma-separated)");
                }
                names.add(name);
            }
        }
        if (names.isEmpty()) {
            names.addAll(configured);
        }
        if (!names.isEmpty()) {
            return List.copyOf(names);
        }
        String own = ownNamespace(serviceAccountFile, env);
        if (own == null) {
            throw new IllegalArgumentException("no namespace to watch: pass --namespace NS, list them in"
                    + " wharf.kubernetes.namespaces, or set POD_NAMESPACE"
                    + " (in a pod, " + serviceAccountFile + " names it)");
        }
        return List.of(own);
    }

    /** The pod's namespace, or null when neither the service-account file nor POD_NAMESPACE says. */
    static String ownNamespace(Path serviceAccountFile, Map<String, String> env) {
        try {
            String text = Files.readString(serviceAccountFile, StandardCharsets.UTF_8).trim();
            if (!text.isEmpty()) {
                return text;
            }
        } catch (IOException e) {
            // Not in a pod (or no service account mounted): the environment may say.
        }
        String fromEnv = env.get("POD_NAMESPACE");
        return fromEnv == null || fromEnv.isBlank() ? null : fromEnv.trim();
    }
}
