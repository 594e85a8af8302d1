package dev.wharf.bench.load;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;

/**
 * One pre-filled direct buffer that every write of a scenario slices: a retained slice shares the
 * memory and costs no copy and (with the pooled allocator's recycled slice objects) no garbage.
 * The content is read-only once filled, so connections on any event loop may slice it at once.
 */
final class Payload implements AutoCloseable {
    private final ByteBuf buf;

    /** {@code size} bytes of a non-zero pattern. */
    Payload(int size) {
        this(size, false, (byte) 0);
    }

    /** The mode byte followed by {@code size} pattern bytes: a connection's whole first write. */
    static Payload withMode(byte mode, int size) {
        return new Payload(size, true, mode);
    }

    private Payload(int size, boolean withMode, byte mode) {
        int capacity = size + (withMode ? 1 : 0);
        buf = PooledByteBufAllocator.DEFAULT.directBuffer(capacity, capacity);
        if (withMode) {
            buf.writeByte(mode);
        }
        for (int i = 0; i < size; i++) {
            buf.writeByte(i * 31 + 7);
        }
    }

    /** A retained slice of the first {@code length} bytes; whoever writes it releases it. */
    ByteBuf slice(int length) {
        return buf.retainedSlice(0, length);
    }

    /** A retained slice of the whole payload. */
    ByteBuf slice() {
        return buf.retainedSlice();
    }

    int size() {
        return buf.readableBytes();
    }

    @Override
    public void close() {
        buf.release();
    }
}
