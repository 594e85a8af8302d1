package dev.wharf.relay;

import io.netty.channel.ChannelHandler;

/**
 * The handlers a protocol mode puts in front of the relay on a session's two channels: one for
 * what the client sends, one for what the upstream answers. Both run on the session's event loop.
 */
public record SessionCodec(ChannelHandler client, ChannelHandler upstream) {
}
