package dev.wharf.upstream;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.List;

/** Turns an endpoint's DNS name into addresses. Blocking: called on health-check threads only. */
@FunctionalInterface
public interface Resolver {
    /** The system resolver (the JVM's, with its own cache; Wharf's launcher turns that cache off). */
    Resolver SYSTEM = host -> List.of(InetAddress.getAllByName(host));

    List<InetAddress> resolve(String host) throws UnknownHostException;
}
