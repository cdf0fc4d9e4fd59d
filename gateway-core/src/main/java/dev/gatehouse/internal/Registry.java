package dev.gatehouse.internal;

import static java.util.Objects.requireNonNull;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;

import dev.gatehouse.Audience;
import dev.gatehouse.CloseStatus;
import dev.gatehouse.ConnectionInfo;
import dev.gatehouse.Connections;
import dev.gatehouse.Delivery;
import dev.gatehouse.Message;
import dev.gatehouse.SendResult;
import dev.gatehouse.spi.Cluster;

/**
 * Every bridge from creation (backend dial) to its end, and the users and groups of the open ones. Lists only
 * bridges whose two legs are open.
 *
 * <p>The user and group indexes hold a bridge from the moment its relay starts to the moment it ends, so that
 * a send to a user or group visits only its members. A bridge's own lock guards its membership; it updates the
 * indexes while holding it, so a join racing the bridge's end can never leave it in an index. Sends iterate
 * the indexes' concurrent sets: a member that stays in a group for the whole send gets the message exactly
 * once, whatever joins, leaves and closes race it.
 */
final class Registry implements Connections {

    /** How many connections a revocation closed when heard from the cluster's map before its broadcast. */
    private record LateClose(Instant revokedAt, Instant until, int closed) {
    }

    /** The client's status when its principal is revoked. */
    static final CloseStatus REVOKED = CloseStatus.of(1008, "revoked");

    private final Ticker ticker;
    private final Revocations revocations;
    private final ConcurrentHashMap<String, Bridge> bridges = new ConcurrentHashMap<>();
    /** The connection slots of each registered bridge that holds any; released when it is removed. */
    private final ConcurrentHashMap<Bridge, ConnectionLimits.Reservation> reservations = new ConcurrentHashMap<>();
    /** The open bridges of each user; a user's entry exists while it has one. */
    private final ConcurrentHashMap<String, Set<Bridge>> users = new ConcurrentHashMap<>();
    /** The open members of each group; a group's entry exists while it has one. */
    private final ConcurrentHashMap<String, Set<Bridge>> groups = new ConcurrentHashMap<>();
    private final List<CompletableFuture<Void>> emptyWaiters = new ArrayList<>(); // guarded by itself
    /** Orders the closes of revocations, so that a revocation's broadcast counts the closes of its own map event. */
    private final Object revoking = new Object();
    /**
     * The connections a revocation heard from the cluster's map closed, by subject, until its broadcast counts
     * them (a node that missed the broadcast keeps them until the revocation ends); guarded by {@link #revoking}.
     */
    private final Map<String, LateClose> lateCloses = new HashMap<>();
    /** The cluster's directory, told of every index change; null without a cluster. Set before any bridge exists. */
    private Cluster.Node node;

    /**
     * @param ticker      the clock of revocations
     * @param revocations where {@link #revoke} remembers revocations, for the handshake to refuse them
     */
    Registry(Ticker ticker, Revocations revocations) {
        this.ticker = requireNonNull(ticker, "ticker");
        this.revocations = requireNonNull(revocations, "revocations");
    }

    /** The wall-clock time. */
    Instant now() {
        return ticker.now();
    }

    /** The revocations in force, made on this node or heard from the cluster. */
    Revocations revocations() {
        return revocations;
    }

    /** The open connections as the cluster's directory holds them. */
    List<Cluster.Entry> entries() {
        List<Cluster.Entry> entries = new ArrayList<>(bridges.size());
        for (Bridge b : bridges.values()) {
            Cluster.Entry e = b.entry();
            if (e != null) {
                entries.add(e);
            }
        }
        return entries;
    }

    /** Tells the cluster's directory of every connection from now on; called once, before any bridge exists. */
    void cluster(Cluster.Node node) {
        this.node = requireNonNull(node, "node");
    }

    void add(Bridge bridge) {
        bridges.put(bridge.id(), bridge);
    }

    /** Registers a bridge with the connection slots it holds until {@link #remove(Bridge)}. */
    void add(Bridge bridge, ConnectionLimits.Reservation reservation) {
        if (reservation != ConnectionLimits.Reservation.NONE) {
            reservations.put(bridge, reservation);
        }
        add(bridge);
    }

    /** The bridge ended: unregisters it and gives its connection slots back (once, however often called). */
    /** The bridge with this id, open or not, or null. */
    Bridge find(String id) {
        return bridges.get(id);
    }

    void remove(Bridge bridge) {
        ConnectionLimits.Reservation r = reservations.remove(bridge);
        if (r != null) {
            r.release();
        }
        bridges.remove(bridge.id(), bridge);
        if (bridges.isEmpty()) {
            completeWaiters();
        }
    }

    /** The bridge's relay started: indexes its user and groups. Under the bridge's lock. */
    void index(Bridge bridge, String user, Collection<String> memberOf) {
        if (user != null) {
            add(users, user, bridge);
        }
        for (String group : memberOf) {
            add(groups, group, bridge);
        }
        if (node != null) {
            node.register(new Cluster.Entry(bridge.id(), Optional.ofNullable(user), Set.copyOf(memberOf)));
        }
    }

    /** The bridge ended: leaves the user and group indexes. Under the bridge's lock. */
    void unindex(Bridge bridge, String user, Collection<String> memberOf) {
        if (user != null) {
            remove(users, user, bridge);
        }
        for (String group : memberOf) {
            remove(groups, group, bridge);
        }
        if (node != null) {
            node.unregister(bridge.id());
        }
    }

    /** The open bridge joined a group. Under the bridge's lock. */
    void indexGroup(Bridge bridge, String group) {
        add(groups, group, bridge);
        if (node != null) {
            node.joined(bridge.id(), group);
        }
    }

    /** The open bridge left a group. Under the bridge's lock. */
    void unindexGroup(Bridge bridge, String group) {
        remove(groups, group, bridge);
        if (node != null) {
            node.left(bridge.id(), group);
        }
    }

    private static void add(ConcurrentHashMap<String, Set<Bridge>> index, String key, Bridge bridge) {
        index.compute(key, (k, members) -> {
            Set<Bridge> set = members == null ? ConcurrentHashMap.newKeySet() : members;
            set.add(bridge);
            return set;
        });
    }

    private static void remove(ConcurrentHashMap<String, Set<Bridge>> index, String key, Bridge bridge) {
        index.computeIfPresent(key, (k, members) -> {
            members.remove(bridge);
            return members.isEmpty() ? null : members;
        });
    }

    /** The users that have an index entry: those with a connection whose relay started and has not ended. */
    Set<String> indexedUsers() {
        return Set.copyOf(users.keySet());
    }

    /** The groups that have an index entry: those with a member whose relay started and has not ended. */
    Set<String> indexedGroups() {
        return Set.copyOf(groups.keySet());
    }

    List<Bridge> all() {
        return new ArrayList<>(bridges.values());
    }

    /** Completes once no bridge is left. */
    CompletableFuture<Void> whenEmpty() {
        CompletableFuture<Void> f = new CompletableFuture<>();
        synchronized (emptyWaiters) {
            emptyWaiters.add(f);
        }
        if (bridges.isEmpty()) {
            completeWaiters();
        }
        return f;
    }

    private void completeWaiters() {
        List<CompletableFuture<Void>> ready;
        synchronized (emptyWaiters) {
            if (!bridges.isEmpty()) {
                return;
            }
            ready = new ArrayList<>(emptyWaiters);
            emptyWaiters.clear();
        }
        ready.forEach(f -> f.complete(null));
    }

    @Override
    public List<ConnectionInfo> list() {
        List<ConnectionInfo> result = new ArrayList<>();
        for (Bridge b : bridges.values()) {
            ConnectionInfo info = b.info();
            if (info != null) {
                result.add(info);
            }
        }
        return result;
    }

    @Override
    public int count() {
        int n = 0;
        for (Bridge b : bridges.values()) {
            if (b.isOpen()) {
                n++;
            }
        }
        return n;
    }

    @Override
    public CompletionStage<Optional<ConnectionInfo>> info(String id) {
        Bridge b = bridges.get(requireNonNull(id, "id"));
        return CompletableFuture.completedFuture(b == null ? Optional.empty() : Optional.ofNullable(b.info()));
    }

    @Override
    public CompletionStage<List<String>> ids(Audience audience) {
        List<String> ids = new ArrayList<>();
        for (Bridge b : members(audience)) {
            if (b.isOpen() && !audience.excluded().contains(b.id())) {
                ids.add(b.id());
            }
        }
        return CompletableFuture.completedFuture(ids);
    }

    @Override
    public CompletionStage<SendResult> send(String id, Message message) {
        requireNonNull(message, "message");
        Bridge b = bridges.get(requireNonNull(id, "id"));
        SendResult result = b == null ? SendResult.GONE : b.push(payload(message), message instanceof Message.Text);
        return CompletableFuture.completedFuture(result);
    }

    @Override
    public CompletionStage<Delivery> send(Audience audience, Message message) {
        requireNonNull(message, "message");
        ByteBuffer payload = payload(message);
        boolean text = message instanceof Message.Text;
        int recipients = 0;
        int refused = 0;
        for (Bridge b : members(audience)) {
            if (audience.excluded().contains(b.id())) {
                continue;
            }
            SendResult r = b.push(payload.duplicate(), text);
            if (r == SendResult.QUEUED) {
                recipients++;
            } else if (r == SendResult.QUEUE_FULL || r == SendResult.TOO_LARGE) {
                refused++;
            }
        }
        return CompletableFuture.completedFuture(new Delivery(recipients, refused));
    }

    @Override
    public CompletionStage<Boolean> close(String id, CloseStatus status) {
        checkSendable(status);
        Bridge b = bridges.get(requireNonNull(id, "id"));
        boolean closed = b != null && b.isOpen() && b.close(status, CloseStatus.GOING_AWAY, "closed by the registry");
        return CompletableFuture.completedFuture(closed);
    }

    @Override
    public CompletionStage<Integer> close(Audience audience, CloseStatus status) {
        checkSendable(status);
        int closed = 0;
        for (Bridge b : members(audience)) {
            if (!audience.excluded().contains(b.id()) && b.isOpen()
                    && b.close(status, CloseStatus.GOING_AWAY, "closed by the registry for " + audience)) {
                closed++;
            }
        }
        return CompletableFuture.completedFuture(closed);
    }

    @Override
    public CompletionStage<Boolean> join(String id, String group) {
        Audience.checkName(group, "group");
        Bridge b = bridges.get(requireNonNull(id, "id"));
        return CompletableFuture.completedFuture(b != null && b.join(group));
    }

    @Override
    public CompletionStage<Boolean> leave(String id, String group) {
        Audience.checkName(group, "group");
        Bridge b = bridges.get(requireNonNull(id, "id"));
        return CompletableFuture.completedFuture(b != null && b.leave(group));
    }

    @Override
    public CompletionStage<Integer> revoke(String subject) {
        return revoke(subject, ticker.now().plus(REMEMBER_REVOCATION));
    }

    @Override
    public CompletionStage<Integer> revoke(String subject, Instant until) {
        requireNonNull(subject, "subject");
        requireNonNull(until, "until");
        Instant now = ticker.now();
        if (until.isAfter(now)) {
            revocations.add(new Cluster.Revocation(subject, now, until), now);
        }
        return close(subject);
    }

    /** Closes the principal's connections of this node with 1008 "revoked"; how many. */
    CompletionStage<Integer> close(String subject) {
        requireNonNull(subject, "subject");
        synchronized (revoking) {
            return CompletableFuture.completedFuture(closeAll(subject));
        }
    }

    /**
     * Closes this node's connections whose credential the revocation covers ({@link Revocations#covers}) as
     * {@link #close(String)} does; a connection whose credential was issued later (a new login) stays open.
     * Never blocks. The revocation's broadcast, if it comes after, counts them ({@link #closeBroadcast}).
     *
     * @return how many were closed
     */
    int closeRevoked(Cluster.Revocation revocation) {
        requireNonNull(revocation, "revocation");
        synchronized (revoking) {
            int closed = 0;
            for (Bridge b : bridges.values()) {
                if (b.isRevokedBy(revocation) && closeRevoked(b, revocation.subject())) {
                    closed++;
                }
            }
            if (closed > 0) {
                Instant now = ticker.now();
                lateCloses.values().removeIf(l -> !l.until().isAfter(now));
                LateClose late = lateCloses.get(revocation.subject());
                int before = late != null && late.revokedAt().equals(revocation.revokedAt()) ? late.closed() : 0;
                if (late != null || lateCloses.size() < Revocations.MAX) { // else its broadcast counts fewer
                    lateCloses.put(revocation.subject(),
                            new LateClose(revocation.revokedAt(), revocation.until(), before + closed));
                }
            }
            return closed;
        }
    }

    /**
     * Closes the principal's connections for the broadcast of a revocation, as {@link #close(String)} does: how
     * many it closed, counting those it closed on this node when heard from the cluster's map first.
     */
    int closeBroadcast(Cluster.Revocation revocation) {
        requireNonNull(revocation, "revocation");
        synchronized (revoking) {
            int closed = closeAll(revocation.subject());
            LateClose late = lateCloses.get(revocation.subject());
            if (late != null && late.revokedAt().equals(revocation.revokedAt())) {
                lateCloses.remove(revocation.subject());
                closed += late.closed();
            }
            return closed;
        }
    }

    /** Closes every connection of the principal; how many. Under {@link #revoking}. */
    private int closeAll(String subject) {
        int closed = 0;
        for (Bridge b : bridges.values()) {
            if (b.isOf(subject) && closeRevoked(b, subject)) {
                closed++;
            }
        }
        return closed;
    }

    /**
     * Closes a bridge of a revoked principal: the client with 1008 "revoked" (one whose leg is not open yet gets
     * it when it opens, or is refused), the backend with 1001.
     *
     * @return whether this call decided its close
     */
    static boolean closeRevoked(Bridge bridge, String subject) {
        return bridge.close(REVOKED, CloseStatus.GOING_AWAY, "revoked for principal " + subject);
    }

    /** The bridges an audience names, before its exclusions: a user's or a group's set, or every bridge. */
    private Collection<Bridge> members(Audience audience) {
        requireNonNull(audience, "audience");
        Set<Bridge> members;
        switch (audience.kind()) {
            case USER:
                members = users.get(audience.name().orElseThrow());
                break;
            case GROUP:
                members = groups.get(audience.name().orElseThrow());
                break;
            default:
                return bridges.values();
        }
        return members == null ? Set.of() : members;
    }

    /** The message's payload, encoded once for every recipient; recipients share it through duplicates. */
    private static ByteBuffer payload(Message message) {
        if (message instanceof Message.Text t) {
            return ByteBuffer.wrap(t.text().getBytes(StandardCharsets.UTF_8));
        }
        ByteBuffer bytes = ((Message.Binary) message).bytes();
        ByteBuffer copy = ByteBuffer.allocate(bytes.remaining());
        copy.put(bytes).flip();
        return copy;
    }

    private static void checkSendable(CloseStatus status) {
        requireNonNull(status, "status");
        if (!status.isTransmittable()) {
            throw new IllegalArgumentException("status: " + status.code() + " (expected: a code that may be sent)");
        }
    }
}
