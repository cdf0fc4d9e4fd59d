package dev.gatehouse.internal;

import static java.util.Objects.requireNonNull;

import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Date;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.gatehouse.Principal;
import dev.gatehouse.spi.Cluster;

/**
 * The revocations this gateway remembers ({@link dev.gatehouse.Connections#revoke}): a principal's credentials
 * issued before its revocation are refused at the handshake until the revocation's end, when they would have
 * expired anyway; a credential issued later (a new login) passes. A credential without an issue time ({@code iat})
 * is refused until the end. With a cluster, every node's revocations reach this set too.
 *
 * <p>An issue time has whole seconds (a JWT's {@code iat}), a revocation milliseconds: they are compared at the
 * second, so that a login right after a revocation is not locked out. A credential issued in the revocation's own
 * second passes, even one issued a moment before it: that second is the window a revocation cannot close.
 *
 * <p>Bounded: revocations that ended are swept as new ones come; when {@value #MAX} are in force, the one that ends
 * first is forgotten, with a warning.
 */
final class Revocations {

    /** The most revocations held. */
    static final int MAX = 100_000;

    private static final Logger LOG = LoggerFactory.getLogger(Revocations.class);

    private final ConcurrentHashMap<String, Cluster.Revocation> bySubject = new ConcurrentHashMap<>();
    private final int max;

    Revocations() {
        this(MAX);
    }

    Revocations(int max) {
        this.max = max;
    }

    /** Remembers a revocation; one for the same subject merges into it (the later time of each). */
    void add(Cluster.Revocation revocation, Instant now) {
        requireNonNull(revocation, "revocation");
        if (!revocation.until().isAfter(now)) {
            return;
        }
        if (!bySubject.containsKey(revocation.subject()) && bySubject.size() >= max) {
            makeRoom(now);
        }
        bySubject.merge(revocation.subject(), revocation, (a, b) -> new Cluster.Revocation(a.subject(),
                later(a.revokedAt(), b.revokedAt()), later(a.until(), b.until())));
    }

    /** Whether a principal's credential is revoked now. */
    boolean refuses(Principal principal, Instant now) {
        if (bySubject.isEmpty()) {
            return false;
        }
        Cluster.Revocation r = bySubject.get(principal.subject());
        if (r == null) {
            return false;
        }
        if (!r.until().isAfter(now)) {
            bySubject.remove(principal.subject(), r);
            return false;
        }
        return covers(r, principal);
    }

    /**
     * Whether a revocation covers a principal's credential: the same subject, and a credential without an issue
     * time or issued before the revocation's second (one issued in that second or later, a new login, is not).
     * Says nothing of the revocation's end.
     */
    static boolean covers(Cluster.Revocation revocation, Principal principal) {
        if (!revocation.subject().equals(principal.subject())) {
            return false;
        }
        Instant issued = issuedAt(principal);
        return issued == null || issued.isBefore(revocation.revokedAt().truncatedTo(ChronoUnit.SECONDS));
    }

    /** How many revocations are held; for tests. */
    int size() {
        return bySubject.size();
    }

    private void makeRoom(Instant now) {
        bySubject.values().removeIf(r -> !r.until().isAfter(now));
        while (bySubject.size() >= max) {
            Map.Entry<String, Cluster.Revocation> first = null;
            for (Map.Entry<String, Cluster.Revocation> e : bySubject.entrySet()) {
                if (first == null || e.getValue().until().isBefore(first.getValue().until())) {
                    first = e;
                }
            }
            if (first == null) {
                return;
            }
            bySubject.remove(first.getKey(), first.getValue());
            LOG.warn("{} revocations are in force: the one ending first ({}) is forgotten before its end", max,
                    first.getValue().until());
        }
    }

    /** The credential's issue time: the claim {@code iat}, in seconds since the epoch; null when absent. */
    static Instant issuedAt(Principal principal) {
        Object iat = principal.claims().get("iat");
        if (iat instanceof Number n) {
            return Instant.ofEpochSecond(n.longValue());
        }
        if (iat instanceof Date d) {
            return d.toInstant();
        }
        if (iat instanceof Instant i) {
            return i;
        }
        return null;
    }

    private static Instant later(Instant a, Instant b) {
        return a.isAfter(b) ? a : b;
    }
}
