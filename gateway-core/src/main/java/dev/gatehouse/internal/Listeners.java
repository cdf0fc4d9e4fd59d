package dev.gatehouse.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.gatehouse.Gateway;
import dev.gatehouse.Route;
import dev.gatehouse.spi.GatewayListener;

/**
 * The gateway's listeners as one: each event goes to every listener in turn, and a listener that throws is
 * logged and skipped. The engine holds a {@code Listeners} only when at least one listener is registered, so
 * that without one the hot path reads a null field and nothing more.
 */
final class Listeners {

    private static final Logger LOG = LoggerFactory.getLogger(Listeners.class);

    private final GatewayListener[] all; // never empty

    private Listeners(List<GatewayListener> all) {
        this.all = all.toArray(GatewayListener[]::new);
    }

    /** The listeners as one, or {@code null} when there are none. */
    static Listeners of(List<GatewayListener> listeners) {
        return listeners.isEmpty() ? null : new Listeners(listeners);
    }

    void built(Gateway gateway) {
        each(l -> l.built(gateway));
    }

    /** The message counter of a route's connection: one listener's own, or one calling every listener's. */
    GatewayListener.MessageCounter messages(Route route) {
        List<GatewayListener.MessageCounter> counters = new ArrayList<>(all.length);
        for (GatewayListener l : all) {
            try {
                GatewayListener.MessageCounter c = l.messages(route);
                if (c != null && c != GatewayListener.MessageCounter.NONE) {
                    counters.add(c);
                }
            } catch (RuntimeException e) {
                LOG.warn("Listener {} failed", l, e);
            }
        }
        if (counters.isEmpty()) {
            return null;
        }
        if (counters.size() == 1) {
            return guarded(counters.get(0));
        }
        GatewayListener.MessageCounter[] array = counters.toArray(GatewayListener.MessageCounter[]::new);
        return (direction, bytes) -> {
            for (GatewayListener.MessageCounter c : array) {
                guarded(c).message(direction, bytes);
            }
        };
    }

    private static GatewayListener.MessageCounter guarded(GatewayListener.MessageCounter c) {
        return (direction, bytes) -> {
            try {
                c.message(direction, bytes);
            } catch (RuntimeException e) {
                LOG.debug("Message counter {} failed", c, e);
            }
        };
    }

    void handshakeAccepted(GatewayListener.HandshakeEvent e) {
        each(l -> l.handshakeAccepted(e));
    }

    void handshakeRejected(GatewayListener.HandshakeEvent e) {
        each(l -> l.handshakeRejected(e));
    }

    void backendDialed(GatewayListener.DialEvent e) {
        each(l -> l.backendDialed(e));
    }

    void connectionClosed(GatewayListener.CloseEvent e) {
        each(l -> l.connectionClosed(e));
    }

    void integrationCalled(GatewayListener.IntegrationEvent e) {
        each(l -> l.integrationCalled(e));
    }

    void managementOperation(GatewayListener.ManagementEvent e) {
        each(l -> l.managementOperation(e));
    }

    void drainStarted(GatewayListener.DrainEvent e) {
        each(l -> l.drainStarted(e));
    }

    void clusterJoined(GatewayListener.ClusterEvent e) {
        each(l -> l.clusterJoined(e));
    }

    void clusterForwarded(GatewayListener.ForwardEvent e) {
        each(l -> l.clusterForwarded(e));
    }

    void clusterFellBack(GatewayListener.FallbackEvent e) {
        each(l -> l.clusterFellBack(e));
    }

    private void each(Consumer<GatewayListener> call) {
        for (GatewayListener l : all) {
            try {
                call.accept(l);
            } catch (RuntimeException e) {
                LOG.warn("Listener {} failed", l, e);
            }
        }
    }
}
