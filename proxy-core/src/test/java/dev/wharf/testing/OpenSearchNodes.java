package dev.wharf.testing;

import java.util.ArrayList;
import java.util.List;

/**
 * Independent single-node OpenSearch clusters ({@link OpenSearchNode}), {@code wharf-os-1}, {@code wharf-os-2}, ...,
 * each on its own port, started in parallel: for a proxy that balances per request and fails over between them,
 * where each answers {@code GET /} with its own {@code name} and {@code cluster_name}. Not one cluster: a proxy
 * test needs to see which node served a request and to lose one without the other reacting.
 */
public final class OpenSearchNodes extends ClassScoped {

    private final List<OpenSearchNode> nodes;

    public OpenSearchNodes(int count) {
        if (count < 1) {
            throw new IllegalArgumentException("count: " + count + " (expected: >= 1)");
        }
        List<OpenSearchNode> list = new ArrayList<>();
        for (int i = 1; i <= count; i++) {
            list.add(new OpenSearchNode("wharf-os-" + i));
        }
        nodes = List.copyOf(list);
    }

    @Override
    public void start() {
        startOrClose(() -> ChildProcess.startAll(nodes));
    }

    /** The {@code index}-th node, from 0. */
    public OpenSearchNode get(int index) {
        return nodes.get(index);
    }

    public List<OpenSearchNode> all() {
        return nodes;
    }

    @Override
    public void close() {
        ChildProcess.closeAll(nodes);
    }
}
