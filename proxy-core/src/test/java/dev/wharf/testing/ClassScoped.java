package dev.wharf.testing;

import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A fixture used as {@code @RegisterExtension static final}: started before the class's tests and
 * closed after them, also when a test fails. JUnit calls the callbacks for {@code @Nested} classes
 * too; only the outermost class owns the fixture.
 */
public abstract class ClassScoped implements BeforeAllCallback, AfterAllCallback, AutoCloseable {
    private String ownerContextId;

    public abstract void start();

    @Override
    public abstract void close();

    @Override
    public void beforeAll(ExtensionContext context) {
        synchronized (this) {
            if (ownerContextId == null) {
                ownerContextId = context.getUniqueId();
            }
        }
        start();
    }

    /**
     * Runs {@code starting}; if it fails, closes this fixture, so a half-started one leaves nothing
     * behind, and rethrows (a failure of the close suppressed in it).
     */
    protected final void startOrClose(Runnable starting) {
        try {
            starting.run();
        } catch (RuntimeException | Error e) {
            try {
                close();
            } catch (RuntimeException cleanup) {
                e.addSuppressed(cleanup);
            }
            throw e;
        }
    }

    @Override
    public synchronized void afterAll(ExtensionContext context) {
        if (context.getUniqueId().equals(ownerContextId)) {
            ownerContextId = null;
            close();
        }
    }
}
