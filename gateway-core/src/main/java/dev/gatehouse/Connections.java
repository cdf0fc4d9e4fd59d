package dev.gatehouse;

import java.util.List;
import java.util.Optional;

import dev.gatehouse.policy.RevocationPolicy;


/**
 * The registry of a gateway's open connections: list, find and close them. Every method is thread-safe
 * and returns snapshots.
 *
 * <pre>{@code
 * for (ConnectionInfo c : gateway.connections().list()) {
 *     log.info("{} on {} since {}", c.id(), c.route(), c.connectedAt());
 * }
 * gateway.connections().close(id, CloseStatus.of(4000, "kicked"));
 * }</pre>
 */
public interface Connections {

    /** The open connections (both legs connected), in no particular order. */
    List<ConnectionInfo> list();

    /** One open connection by id. */
    Optional<ConnectionInfo> find(String id);

    /** How many connections are open. */
    int count();

    /**
     * Closes a connection: the client receives {@code status}, the backend 1001.
     *
     * @return whether a connection with that id was open
     * @throws IllegalArgumentException if the status may not be sent (1005, 1006, 1015)
     */
    boolean close(String id, CloseStatus status);

    /**
     * Closes every open connection of a principal: the clients receive {@code status}, the backends 1001.
     *
     * @param subject the principal's {@link Principal#subject()}
     * @return how many connections were closed
     * @throws IllegalArgumentException if the status may not be sent
     */
    int closeAll(String subject, CloseStatus status);

    /**
     * Revokes a principal's credential for its open connections: each is closed with 1008 "revoked" (the
     * backend gets 1001). Pair it with a {@link RevocationPolicy} so that the principal cannot reconnect.
     *
     * @return how many connections were closed
     */
    default int revoke(String subject) {
        return closeAll(subject, CloseStatus.of(1008, "revoked"));
    }
}
