package dev.gatehouse.internal;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import dev.gatehouse.Handshake;
import dev.gatehouse.balance.Balance;
import dev.gatehouse.balance.BackendGroup;

/**
 * The live state of one {@link BackendGroup}: sessions per target, passive health, the active checks' verdict,
 * the round robin's and the hash ring's state, and the choice of a target for each attempt of a handshake.
 *
 * <p>Thread-safe: choices and health changes are made under the balancer's lock (a few comparisons per
 * target); session counts are atomic, so that a session's end never waits for the lock.
 */
final class Balancer {

    /** Virtual nodes per unit of weight on the hash ring. */
    static final int VIRTUAL_NODES = 100;
    /** The most points on a hash ring. */
    private static final int MAX_RING_POINTS = 100_000;
    /** The longest cool-down, as a multiple of the group's first. */
    static final int MAX_COOL_DOWN_FACTOR = 32;
    /** The share of its weight a target gets as its slow start begins. */
    private static final double SLOW_START_FLOOR = 0.1;

    private final BackendGroup group;
    private final Ticker ticker;
    private final Member[] members;
    private final long[] ring;       // the hash ring's points, sorted; empty unless the group hashes
    private final int[] ringMember;  // the member of each point
    private final Object lock = new Object();
    private int rotation;            // where least connections' ties start; guarded by lock

    Balancer(BackendGroup group, Ticker ticker) {
        this.group = group;
        this.ticker = ticker;
        List<BackendGroup.Target> targets = group.targets();
        this.members = new Member[targets.size()];
        for (int i = 0; i < members.length; i++) {
            members[i] = new Member(i, targets.get(i));
        }
        if (group.balance().policy() == Balance.Policy.HASH) {
            int totalWeight = 0;
            for (BackendGroup.Target t : targets) {
                totalWeight += t.weight();
            }
            // 100 points per unit of weight, fewer for a heavy group: the ring never holds more than ~100,000.
            int perWeight = Math.max(1, Math.min(VIRTUAL_NODES, MAX_RING_POINTS / totalWeight));
            int points = totalWeight * perWeight;
            long[] keyed = new long[points];
            int[] owner = new int[points];
            int p = 0;
            for (int i = 0; i < members.length; i++) {
                // A target's points depend on its URL only: adding a target leaves the others' points in place.
                for (int v = 0; v < targets.get(i).weight() * perWeight; v++) {
                    keyed[p] = hash(targets.get(i).url() + "#" + v);
                    owner[p] = i;
                    p++;
                }
            }
            Integer[] order = new Integer[points];
            for (int i = 0; i < points; i++) {
                order[i] = i;
            }
            Arrays.sort(order, (a, b) -> Long.compare(keyed[a], keyed[b]));
            this.ring = new long[points];
            this.ringMember = new int[points];
            for (int i = 0; i < points; i++) {
                ring[i] = keyed[order[i]];
                ringMember[i] = owner[order[i]];
            }
        } else {
            this.ring = new long[0];
            this.ringMember = new int[0];
        }
    }

    BackendGroup group() {
        return group;
    }

    /** Starts choosing targets for one handshake. */
    Plan plan(Handshake handshake) {
        return new Plan(handshake);
    }

    /** Live sessions (and dials in progress) of target {@code index}. */
    int sessions(int index) {
        return members[index].sessions.get();
    }

    /** Whether target {@code index} is in a cool-down now. */
    boolean ejected(int index) {
        synchronized (lock) {
            return members[index].ejectedUntil - ticker.nanoTime() > 0;
        }
    }

    /** Whether the active checks took target {@code index} down. */
    boolean down(int index) {
        synchronized (lock) {
            return members[index].down;
        }
    }

    /** What a probe's outcome changed. */
    enum Change {
        /** Nothing: the target stays up or down. */
        NONE,
        /** The target went down. */
        DOWN,
        /** The target came back up. */
        UP
    }

    /**
     * Counts a probe's outcome for target {@code index}: an up target goes down after the check's {@code fall}
     * failed probes in a row, a down one comes back after {@code rise} successful ones, and then runs its slow
     * start as one back from a cool-down does.
     */
    Change probed(int index, boolean up) {
        int fall = group.healthCheck().map(c -> c.fall()).orElse(1);
        int rise = group.healthCheck().map(c -> c.rise()).orElse(1);
        synchronized (lock) {
            Member m = members[index];
            if (up) {
                m.probeFailures = 0;
                if (m.down && ++m.probeSuccesses >= rise) {
                    long now = ticker.nanoTime();
                    m.down = false;
                    m.probeSuccesses = 0;
                    m.failures = 0;
                    m.backSince = m.ejectedUntil - now > 0 ? m.ejectedUntil : now;
                    m.returning = true;
                    return Change.UP;
                }
                return Change.NONE;
            }
            m.probeSuccesses = 0;
            if (!m.down && ++m.probeFailures >= fall) {
                m.down = true;
                m.probeFailures = 0;
                return Change.DOWN;
            }
            return Change.NONE;
        }
    }

    /**
     * The open sessions of target {@code index}, when the group closes them on down (else none): those whose
     * dial succeeded and which have not ended.
     */
    List<Bridge> sessionsOf(int index) {
        Set<Bridge> bridges = members[index].bridges;
        return bridges == null ? List.of() : List.copyOf(bridges);
    }

    /** The attempts of one handshake: each {@link #next()} chooses a target it has not tried. */
    final class Plan {
        private final Handshake handshake;
        private final boolean[] tried = new boolean[members.length];
        private int attempts;
        private boolean refused; // no target was healthy and the group refuses then

        private Plan(Handshake handshake) {
            this.handshake = handshake;
        }

        /**
         * The next target to dial, counted as a session of it until the lease ends; null when the attempts are
         * spent, every target was tried, or no target is healthy and the group refuses then ({@link #refused()}).
         */
        Lease next() {
            if (attempts >= group.attempts()) {
                return null;
            }
            Member chosen;
            synchronized (lock) {
                chosen = choose(handshake, tried);
            }
            if (chosen == null) {
                return null;
            }
            tried[chosen.index] = true;
            attempts++;
            URI uri = group.target(chosen.index, handshake); // before the session counts: it may throw
            chosen.sessions.incrementAndGet();
            return new Lease(chosen, uri);
        }

        /** The most targets this handshake tries. */
        int attempts() {
            return group.attempts();
        }

        /** Whether the last {@link #next()} found no healthy target and the group refuses then. */
        boolean refused() {
            return refused;
        }

        /** Chooses among the untried targets: the healthy ones, else (unless the group refuses) all of them. */
        private Member choose(Handshake h, boolean[] excluded) {
            long now = ticker.nanoTime();
            boolean any = false;
            boolean[] eligible = new boolean[members.length];
            for (Member m : members) {
                if (!excluded[m.index] && m.healthy(now)) {
                    eligible[m.index] = true;
                    any = true;
                }
            }
            if (!any) {
                boolean untried = false;
                for (Member m : members) {
                    untried |= !excluded[m.index];
                }
                if (!untried) {
                    return null;
                }
                if (group.refuseWhenNoneHealthy()) {
                    refused = attempts == 0;
                    return null;
                }
                for (Member m : members) {
                    eligible[m.index] = !excluded[m.index];
                }
            }
            switch (group.balance().policy()) {
                case ROUND_ROBIN:
                    return roundRobin(eligible, now);
                case HASH:
                    String key = key(h);
                    return key == null ? leastConnections(eligible, now) : onRing(key, eligible);
                default:
                    return leastConnections(eligible, now);
            }
        }
    }

    /** The target with the fewest sessions per unit of (effective) weight; ties go round. */
    private Member leastConnections(boolean[] eligible, long now) {
        Member best = null;
        double bestScore = Double.MAX_VALUE;
        int n = members.length;
        int start = rotation++ & Integer.MAX_VALUE;
        for (int k = 0; k < n; k++) {
            Member m = members[(start + k) % n];
            if (!eligible[m.index]) {
                continue;
            }
            double score = (m.sessions.get() + 1) / m.effectiveWeight(now);
            if (score < bestScore) {
                best = m;
                bestScore = score;
            }
        }
        return best;
    }

    /** Smooth weighted round robin (as nginx's): the largest running total wins, and pays the sum of weights. */
    private Member roundRobin(boolean[] eligible, long now) {
        Member best = null;
        double total = 0;
        for (Member m : members) {
            if (!eligible[m.index]) {
                continue;
            }
            double w = m.effectiveWeight(now);
            m.current += w;
            total += w;
            if (best == null || m.current > best.current) {
                best = m;
            }
        }
        if (best != null) {
            best.current -= total;
        }
        return best;
    }

    /** The first eligible target clockwise from the key's point on the ring. */
    private Member onRing(String key, boolean[] eligible) {
        long point = hash(key);
        int i = Arrays.binarySearch(ring, point);
        if (i < 0) {
            i = -i - 1;
        }
        for (int k = 0; k < ring.length; k++) {
            int m = ringMember[(i + k) % ring.length];
            if (eligible[m]) {
                return members[m];
            }
        }
        return null;
    }

    /** The handshake's value of the group's hash key, or null when it has none. */
    private String key(Handshake h) {
        Balance.Key key = group.balance().key().orElseThrow();
        switch (key.source()) {
            case CLIENT_ADDRESS:
                return h.clientAddress().getHostAddress();
            case PRINCIPAL:
                return h.principal().map(p -> p.subject()).orElse(null);
            case HEADER:
                return h.header(key.name().orElseThrow()).orElse(null);
            default:
                return h.queryParameter(key.name().orElseThrow()).orElse(null);
        }
    }

    /** A well-mixed 64-bit hash of a string: FNV-1a over its UTF-8, then the SplitMix64 finalizer. */
    static long hash(String s) {
        long h = 0xcbf29ce484222325L;
        for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
            h ^= b & 0xff;
            h *= 0x100000001b3L;
        }
        h ^= h >>> 30;
        h *= 0xbf58476d1ce4e5b9L;
        h ^= h >>> 27;
        h *= 0x94d049bb133111ebL;
        return h ^ (h >>> 31);
    }

    /** A dial's claim on a target: a session of it until {@link #release()}, and the dial's outcome for its health. */
    final class Lease {
        private final Member member;
        private final URI uri;
        private final AtomicBoolean released = new AtomicBoolean();
        private volatile Bridge bridge; // the session's bridge, kept by a group that closes sessions on down

        private Lease(Member member, URI uri) {
            this.member = member;
            this.uri = uri;
        }

        /** The target's index in the group. */
        int index() {
            return member.index;
        }

        /** The target's URI for this handshake, without the client's query. */
        URI uri() {
            return uri;
        }

        /** The target's URL template as configured: the low-cardinality name of the target. */
        String target() {
            return member.target.url();
        }

        /** The dial succeeded: the target is healthy. The session lasts until {@link #release()}. */
        void connected() {
            synchronized (lock) {
                member.failures = 0;
                if (member.ejectedUntil - ticker.nanoTime() <= 0) {
                    member.ejections = 0; // back, and it works
                }
            }
        }

        /** The dial failed in a way that counts against the target; ends the lease. */
        void failed() {
            release();
            synchronized (lock) {
                long now = ticker.nanoTime();
                member.failures++;
                if (member.failures >= group.ejectAfter() && member.healthy(now) && ejectedCount(now) < members.length / 2) {
                    long factor = Math.min(MAX_COOL_DOWN_FACTOR, 1L << Math.min(member.ejections, 30));
                    member.ejectedUntil = now + group.ejectFor().toNanos() * factor;
                    member.backSince = member.ejectedUntil;
                    member.returning = true;
                    member.ejections++;
                    member.failures = 0;
                }
            }
        }

        /**
         * The dial connected this bridge: a group that closes sessions on down keeps it as one of the target's
         * sessions until {@link #release()}; before the bridge learns of this lease.
         */
        void track(Bridge session) {
            if (member.bridges == null) {
                return;
            }
            bridge = session;
            member.bridges.add(session);
            if (released.get()) {
                member.bridges.remove(session); // released meanwhile, and maybe before it saw the bridge
            }
        }

        /** The session (or the dial) ended: the target has one session less. At most once. */
        void release() {
            if (released.compareAndSet(false, true)) {
                member.sessions.decrementAndGet();
                Bridge b = bridge;
                if (b != null) {
                    member.bridges.remove(b);
                }
            }
        }
    }

    /** How many targets are in a cool-down now; under the lock. */
    private int ejectedCount(long now) {
        int n = 0;
        for (Member m : members) {
            if (m.ejectedUntil - now > 0) {
                n++;
            }
        }
        return n;
    }

    /** One target's state. */
    private final class Member {
        final int index;
        final BackendGroup.Target target;
        final AtomicInteger sessions = new AtomicInteger();
        double current;          // round robin's running total; guarded by lock
        int failures;            // failed dials in a row; guarded by lock
        int ejections;           // ejections in a row; guarded by lock
        long ejectedUntil;       // nanoTime the cool-down ends (in the past when none); guarded by lock
        long backSince;          // nanoTime the target last came back, for the slow start; guarded by lock
        boolean returning;       // it came back from a cool-down and its slow start may run; guarded by lock
        boolean down;            // the active checks took it down; guarded by lock
        int probeFailures;       // failed probes in a row while up; guarded by lock
        int probeSuccesses;      // successful probes in a row while down; guarded by lock
        final Set<Bridge> bridges; // its open sessions, when the group closes them on down; else null

        Member(int index, BackendGroup.Target target) {
            this.index = index;
            this.target = target;
            this.bridges = group.closeSessionsOnDown().isPresent() ? ConcurrentHashMap.newKeySet() : null;
            long now = ticker.nanoTime();
            this.ejectedUntil = now;
            this.backSince = now;
        }

        /** Neither ejected nor down; under the lock. */
        boolean healthy(long now) {
            return !down && ejectedUntil - now <= 0;
        }

        /** Its weight, scaled down while its slow start runs; under the lock. */
        double effectiveWeight(long now) {
            double w = target.weight();
            long slow = group.slowStart().toNanos();
            if (returning) {
                long since = now - backSince;
                if (slow > 0 && since < slow) {
                    return w * Math.max(SLOW_START_FLOOR, (double) Math.max(0, since) / slow);
                }
                returning = false;
            }
            return w;
        }
    }
}
