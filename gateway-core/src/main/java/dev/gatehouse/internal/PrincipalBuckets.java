package dev.gatehouse.internal;

import java.util.concurrent.ConcurrentHashMap;

import dev.gatehouse.Handshake;
import dev.gatehouse.Route;
import dev.gatehouse.policy.Cidr;
import dev.gatehouse.session.MessageLimits;

/**
 * The message rate limits a principal shares across all its connections on a route (its
 * {@link MessageLimits#principalMessagesPerSecond()} and {@link MessageLimits#principalBytesPerSecond()}):
 * one [messages, bytes] pair of token buckets per route and principal, anonymous clients by address.
 * Thread-safe.
 */
final class PrincipalBuckets {

    /** Over this many, idle (full) pairs are forgotten. */
    static final int MAX_ENTRIES = 10_000;

    private final ConcurrentHashMap<String, Pair> buckets = new ConcurrentHashMap<>(); // route + who -> pair

    /** A pair of buckets and the limits they were made for. */
    private record Pair(MessageLimits limits, TokenBucket[] buckets) {
    }

    /**
     * The pair of a connection; entries are null when that limit is not set, and the pair is new (and not
     * shared) when the route sets neither.
     */
    TokenBucket[] of(Route route, Handshake h) {
        MessageLimits limits = route.messageLimits().orElse(null);
        if (limits == null || (limits.principalMessagesPerSecond() == 0 && limits.principalBytesPerSecond() == 0)) {
            return new TokenBucket[2];
        }
        String who = h.principal().map(p -> "p:" + p.subject())
                .orElseGet(() -> "a:" + Cidr.text(h.clientAddress()));
        long now = System.nanoTime();
        if (buckets.size() > MAX_ENTRIES) {
            buckets.values().removeIf(p -> (p.buckets()[0] == null || p.buckets()[0].isFull(now))
                    && (p.buckets()[1] == null || p.buckets()[1].isFull(now)));
        }
        // A route changed by an update with other limits gets new buckets; its earlier connections keep theirs.
        return buckets.compute(RouteTable.key(route) + " " + who, (k, p) -> p != null && p.limits() == limits ? p
                : new Pair(limits, new TokenBucket[] {
                    limits.principalMessagesPerSecond() > 0
                            ? new TokenBucket(limits.principalMessagesPerSecond(), limits.principalMessageBurst(), now) : null,
                    limits.principalBytesPerSecond() > 0
                            ? new TokenBucket(limits.principalBytesPerSecond(), limits.principalByteBurst(), now) : null}))
                .buckets();
    }
}
