package dev.wharf.k8s;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigRenderOptions;
import com.typesafe.config.ConfigResolveOptions;
import com.typesafe.config.ConfigUtil;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueType;
import dev.wharf.config.ConfigError;
import dev.wharf.config.ConfigException;
import dev.wharf.config.ConfigParser;
import dev.wharf.config.WharfConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * Merges config fragments into one {@link WharfConfig}, and says which fragment each error came
 * from.
 *
 * <p>A fragment is HOCON relative to {@code wharf} ({@code listeners.redis { ... }}); one whose
 * only root key is {@code wharf} is unwrapped first, so a copy of a whole config file works too.
 * Fragments are merged in the order given, a later one overriding an earlier one key by key
 * ({@code defaults.allow}, say), except that a listener belongs to exactly one fragment: a
 * listener name, or a listener port, claimed by two fragments rejects the update, with an error
 * on each of them. Substitutions ({@code ${...}}) resolve within their own fragment only.
 */
public final class Fragments {
    private static final String ROOT = "wharf";
    private static final String KUBERNETES = "kubernetes";
    private static final Pattern INDEX = Pattern.compile("\\[\\d+]");
    private static final String DEFAULT_HOST = "0.0.0.0";

    private Fragments() {
    }

    /** An error and the fragments it concerns (none when it cannot be traced to one). */
    public record FragmentError(List<Fragment> fragments, ConfigError error) {
        /** The error as logged: the fragments' origins, then {@code path: message}. */
        ConfigError located() {
            if (fragments.isEmpty()) {
                return error;
            }
            List<String> origins = fragments.stream().map(Fragment::origin).toList();
            return new ConfigError(String.join(" + ", origins) + " " + error.path(), error.message());
        }
    }

    /** A merge that failed: every error, each with the fragments it concerns. */
    public static final class MergeException extends Exception {
        private final List<FragmentError> errors;

        MergeException(List<FragmentError> errors) {
            super(errors.stream().map(e -> e.located().toString()).reduce((a, b) -> a + "\n" + b).orElse(""));
            this.errors = List.copyOf(errors);
        }

        public List<FragmentError> errors() {
            return errors;
        }

        /** The errors as one ConfigException, for {@code WharfServer.reject}. */
        public ConfigException asConfigException() {
            return new ConfigException(errors.stream().map(FragmentError::located).toList());
        }
    }

    /** A fragment's tree, relative to {@code wharf}. */
    private record Parsed(Fragment fragment, Config tree) {
    }

    /** A port one fragment's listener asks for. */
    private record PortClaim(Parsed owner, String listener, int port, String host) {
    }

    /**
     * Merges {@code fragments}, in order, into a config.
     *
     * @throws MergeException with every error found, each traced to its fragment(s)
     */
    public static WharfConfig merge(List<Fragment> fragments) throws MergeException {
        List<FragmentError> errors = new ArrayList<>();
        List<Parsed> parsed = new ArrayList<>();
        for (Fragment fragment : fragments) {
            Parsed p = parse(fragment, errors);
            if (p != null && fragment.owner() != null && p.tree().hasPath(KUBERNETES)) {
                errors.add(new FragmentError(List.of(fragment), new ConfigError(ROOT + "." + KUBERNETES,
                        "only the --config file may set this (a ConfigMap cannot change which namespaces are watched)")));
            } else if (p != null) {
                parsed.add(p);
            }
        }
        Config merged = ConfigFactory.empty();
        for (Parsed p : parsed) {
            merged = p.tree().withFallback(merged);
        }
        errors.addAll(claims(parsed, merged));
        if (!errors.isEmpty()) {
            throw new MergeException(errors);
        }
        String text = merged.root().atKey(ROOT).root().render(ConfigRenderOptions.concise());
        try {
            return ConfigParser.parse(text, "merged config");
        } catch (ConfigException e) {
            throw new MergeException(attribute(fragments, e.errors()));
        }
    }

    /**
     * Traces errors about the merged config (from the parser, or from binding a listener) to the
     * fragment that set the value at each error's path: the last one to set it, as it wins the
     * merge. An error under a path no fragment sets stays unattributed.
     */
    public static List<FragmentError> attribute(List<Fragment> fragments, List<ConfigError> errors) {
        List<Parsed> parsed = new ArrayList<>();
        for (Fragment f : fragments) {
            Parsed p = parse(f, new ArrayList<>());
            if (p != null) {
                parsed.add(p);
            }
        }
        List<FragmentError> result = new ArrayList<>();
        for (ConfigError error : errors) {
            Parsed owner = ownerOf(parsed, error.path());
            result.add(new FragmentError(owner == null ? List.of() : List.of(owner.fragment()), error));
        }
        return result;
    }

    private static Parsed ownerOf(List<Parsed> parsed, String path) {
        if (!path.startsWith(ROOT + ".")) {
            return null;
        }
        List<String> keys;
        try {
            keys = ConfigUtil.splitPath(INDEX.matcher(path.substring(ROOT.length() + 1)).replaceAll(""));
        } catch (com.typesafe.config.ConfigException e) {
            return null;
        }
        // A "missing" error names a key no fragment set; its parent object is what to blame.
        for (int n = keys.size(); n > 0; n--) {
            String prefix = ConfigUtil.joinPath(keys.subList(0, n));
            for (int i = parsed.size() - 1; i >= 0; i--) {
                if (hasPath(parsed.get(i).tree(), prefix)) {
                    return parsed.get(i);
                }
            }
        }
        return null;
    }

    private static boolean hasPath(Config tree, String path) {
        try {
            return tree.hasPathOrNull(path);
        } catch (com.typesafe.config.ConfigException e) {
            // A parent that is not an object: the fragment still sets something on the way.
            return false;
        }
    }

    private static Parsed parse(Fragment fragment, List<FragmentError> errors) {
        Config config;
        try {
            config = ConfigFactory.parseString(fragment.text(),
                    ConfigParseOptions.defaults().setOriginDescription(fragment.origin()))
                    .resolve(ConfigResolveOptions.noSystem());
        } catch (com.typesafe.config.ConfigException e) {
            errors.add(new FragmentError(List.of(fragment), new ConfigError(ROOT, e.getMessage())));
            return null;
        }
        ConfigObject root = config.root();
        if (root.size() == 1 && root.containsKey(ROOT)) {
            ConfigValue inner = root.get(ROOT);
            if (inner.valueType() != ConfigValueType.OBJECT) {
                errors.add(new FragmentError(List.of(fragment), new ConfigError(ROOT,
                        inner.render(ConfigRenderOptions.concise()) + " is not an object (expected: wharf { ... })")));
                return null;
            }
            config = ((ConfigObject) inner).toConfig();
        }
        return new Parsed(fragment, config);
    }

    /** Listener names and ports claimed by more than one fragment. */
    private static List<FragmentError> claims(List<Parsed> parsed, Config merged) {
        List<FragmentError> errors = new ArrayList<>();
        Map<String, List<Parsed>> names = new TreeMap<>();
        List<PortClaim> ports = new ArrayList<>();
        String defaultHost = stringAt(merged, "defaults.host", DEFAULT_HOST);
        for (Parsed p : parsed) {
            ConfigObject listeners = objectAt(p.tree(), "listeners");
            if (listeners == null) {
                continue;
            }
            for (String name : listeners.keySet()) {
                names.computeIfAbsent(name, k -> new ArrayList<>()).add(p);
                ConfigValue listener = listeners.get(name);
                if (listener.valueType() != ConfigValueType.OBJECT) {
                    continue;
                }
                Config l = ((ConfigObject) listener).toConfig();
                Integer port = intAt(l, "port");
                if (port != null) {
                    ports.add(new PortClaim(p, name, port, stringAt(l, "host", defaultHost)));
                }
            }
        }
        names.forEach((name, owners) -> {
            if (owners.size() > 1) {
                List<Fragment> fragments = owners.stream().map(Parsed::fragment).distinct().toList();
                errors.add(new FragmentError(fragments, new ConfigError(listenerPath(name),
                        "listener defined by more than one fragment: " + origins(fragments)
                                + " (expected: each listener in exactly one ConfigMap key)")));
            }
        });
        for (int i = 0; i < ports.size(); i++) {
            for (int j = i + 1; j < ports.size(); j++) {
                PortClaim a = ports.get(i);
                PortClaim b = ports.get(j);
                if (a.owner() != b.owner() && !a.listener().equals(b.listener())
                        && ConfigParser.clash(a.host(), a.port(), b.host(), b.port())) {
                    List<Fragment> fragments = List.of(a.owner().fragment(), b.owner().fragment());
                    errors.add(new FragmentError(fragments, new ConfigError(listenerPath(b.listener()) + ".port",
                            b.port() + " is already used by listener \"" + a.listener() + "\" in "
                                    + a.owner().fragment().origin() + " (expected: a port no other listener uses)")));
                }
            }
        }
        return errors;
    }

    private static String listenerPath(String name) {
        return ROOT + ".listeners." + ConfigUtil.joinPath(name);
    }

    private static String origins(List<Fragment> fragments) {
        return String.join(", ", fragments.stream().map(Fragment::origin).toList());
    }

    private static ConfigObject objectAt(Config config, String path) {
        ConfigValue value = valueAt(config, path);
        return value != null && value.valueType() == ConfigValueType.OBJECT ? (ConfigObject) value : null;
    }

    private static String stringAt(Config config, String path, String otherwise) {
        ConfigValue value = valueAt(config, path);
        return value != null && value.valueType() == ConfigValueType.STRING ? (String) value.unwrapped() : otherwise;
    }

    /** An integer or a string holding one, as the parser accepts; null otherwise (the parser reports it). */
    private static Integer intAt(Config config, String path) {
        ConfigValue value = valueAt(config, path);
        if (value == null) {
            return null;
        }
        Object raw = value.unwrapped();
        if (raw instanceof Integer i) {
            return i;
        }
        if (raw instanceof String s) {
            try {
                return Integer.valueOf(s.trim());
            } catch (NumberFormatException e) {
                return null;
            }
        }
        return null;
    }

    private static ConfigValue valueAt(Config config, String path) {
        try {
            return config.hasPath(path) ? config.getValue(path) : null;
        } catch (com.typesafe.config.ConfigException e) {
            return null;
        }
    }

    static boolean sameInputs(List<Fragment> a, List<Fragment> b) {
        return b != null && a.size() == b.size()
                && a.stream().map(Fragment::identity).toList().equals(b.stream().map(Fragment::identity).toList());
    }
}
