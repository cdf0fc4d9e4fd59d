package dev.gatehouse.auth;

import static java.util.Objects.requireNonNull;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.gatehouse.Authenticator;
import dev.gatehouse.Handshake;
import dev.gatehouse.Policy;
import dev.gatehouse.Principal;
import dev.gatehouse.Rejection;
import dev.gatehouse.Verdict;

/**
 * Your own authorization code, run like AWS's REQUEST authorizer: it sees the handshake (credentials
 * included) and returns a verdict; it may be slow or do I/O, so it runs on its own bounded thread pool with
 * a timeout, and its decisions are cached by the values of the identity sources for a TTL.
 *
 * <pre>{@code
 * Authenticator sessions = CustomAuthorizer.builder(handshake -> sessionStore.lookup(handshake))
 *         .identitySource(CredentialSource.cookie("SESSION"))
 *         .timeout(Duration.ofSeconds(2))
 *         .cacheTtl(Duration.ofMinutes(5))
 *         .build();
 * }</pre>
 *
 * <p>A request lacking any identity source is rejected with {@link Rejection#CREDENTIAL_MISSING} without
 * calling your code. Your code returns {@link Verdict#allow(Handshake)} with a principal on the handshake
 * (or without one, for anonymous access) or a {@link Verdict.Reject}. Only the principal of an allow is
 * used (and cached); change headers with a {@link Policy}. Allows and 401/403 rejections are cached; an
 * exception, a timeout or a full pool is not: it answers 500, 503 and 503. The identity sources are
 * removed from the forwarded request. Cache keys are SHA-256 hashes of the identity values.
 */
public final class CustomAuthorizer implements Authenticator {

    private static final Logger LOG = LoggerFactory.getLogger(CustomAuthorizer.class);
    private static final AtomicInteger THREADS = new AtomicInteger();

    private final Authenticator authorizer;
    private final List<CredentialSource> sources;
    private final long timeoutNanos;
    private final long ttlNanos;
    private final int maxEntries;
    private final ThreadPoolExecutor pool;
    private final Map<String, Cached> cache = new ConcurrentHashMap<>(); // identity hash -> decision

    /** A cached decision: a principal (null for anonymous) or a rejection, until a nanoTime. */
    private record Cached(Principal principal, Verdict.Reject reject, long expiresAt) {
    }

    private CustomAuthorizer(Builder b) {
        this.authorizer = b.authorizer;
        this.sources = List.copyOf(b.sources);
        this.timeoutNanos = b.timeout.toNanos();
        this.ttlNanos = b.cacheTtl.toNanos();
        this.maxEntries = b.maxCacheEntries;
        this.pool = new ThreadPoolExecutor(b.maxConcurrency, b.maxConcurrency, 30, TimeUnit.SECONDS,
                new ArrayBlockingQueue<>(b.maxConcurrency * 4), r -> {
                    Thread t = new Thread(r, "gatehouse-authorizer-" + THREADS.incrementAndGet());
                    t.setDaemon(true);
                    return t;
                });
        pool.allowCoreThreadTimeOut(true);
    }

    /** Starts an authorizer around your code. */
    public static Builder builder(Authenticator authorizer) {
        return new Builder(authorizer);
    }

    @Override
    public Verdict authenticate(Handshake handshake) {
        Handshake stripped = handshake;
        List<String> identity = new ArrayList<>(sources.size());
        for (CredentialSource source : sources) {
            Optional<CredentialSource.Credential> found = source.find(stripped);
            if (found.isEmpty()) {
                return Verdict.reject(Rejection.CREDENTIAL_MISSING, "a credential is required");
            }
            identity.add(found.get().value());
            stripped = found.get().stripped();
        }
        String key = ttlNanos > 0 ? hash(identity) : null;
        long now = System.nanoTime();
        Cached cached = key == null ? null : cache.get(key);
        if (cached == null || now - cached.expiresAt() >= 0) {
            Verdict decided = decide(handshake);
            if (decided instanceof Verdict.Reject) {
                Verdict.Reject r = (Verdict.Reject) decided;
                if (key != null && (r.status() == 401 || r.status() == 403)) {
                    remember(key, new Cached(null, r, now + ttlNanos));
                }
                return r;
            }
            cached = new Cached(((Verdict.Allow) decided).handshake().principal().orElse(null), null, now + ttlNanos);
            if (key != null) {
                remember(key, cached);
            }
        }
        if (cached.reject() != null) {
            return cached.reject();
        }
        return Verdict.allow(cached.principal() == null ? stripped : stripped.withPrincipal(cached.principal()));
    }

    private Verdict decide(Handshake handshake) {
        Future<Verdict> call;
        try {
            call = pool.submit(() -> authorizer.authenticate(handshake));
        } catch (RejectedExecutionException e) {
            LOG.warn("Authorizer {} is saturated; request {} refused", authorizer, handshake.requestId());
            return Verdict.reject(Rejection.UNAVAILABLE, "the authorizer is overloaded").withHeader("Retry-After", "1");
        }
        try {
            Verdict v = call.get(timeoutNanos, TimeUnit.NANOSECONDS);
            if (v == null) {
                throw new ExecutionException(new NullPointerException("authorizer " + authorizer + " returned null"));
            }
            return v;
        } catch (TimeoutException e) {
            call.cancel(true);
            LOG.warn("Authorizer {} did not answer request {} within {} ms", authorizer, handshake.requestId(),
                    TimeUnit.NANOSECONDS.toMillis(timeoutNanos));
            return Verdict.reject(Rejection.UNAVAILABLE, "the authorizer did not answer in time").withHeader("Retry-After", "1");
        } catch (ExecutionException e) {
            LOG.error("Authorizer {} failed on request {}", authorizer, handshake.requestId(), e.getCause());
            return Verdict.reject(Rejection.INTERNAL_ERROR, "authorization failed");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            call.cancel(true);
            return Verdict.reject(Rejection.UNAVAILABLE, "the gateway is shutting down");
        }
    }

    private void remember(String key, Cached entry) {
        cache.put(key, entry);
        if (cache.size() > maxEntries) {
            long now = System.nanoTime();
            cache.values().removeIf(c -> now - c.expiresAt() >= 0);
            Iterator<String> it = cache.keySet().iterator();
            while (cache.size() > maxEntries * 9L / 10 && it.hasNext()) {
                it.next();
                it.remove();
            }
        }
    }

    private static String hash(List<String> identity) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            for (String value : identity) {
                md.update(value.getBytes(StandardCharsets.UTF_8));
                md.update((byte) 0);
            }
            return HexFormat.of().formatHex(md.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is not available", e);
        }
    }

    @Override
    public String toString() {
        return "CustomAuthorizer[" + authorizer + "]";
    }

    /** Builds a {@link CustomAuthorizer}. */
    public static final class Builder {
        private final Authenticator authorizer;
        private final List<CredentialSource> sources = new ArrayList<>();
        private Duration timeout = Duration.ofSeconds(3);
        private Duration cacheTtl = Duration.ofMinutes(5);
        private int maxCacheEntries = 10_000;
        private int maxConcurrency = 32;

        private Builder(Authenticator authorizer) {
            this.authorizer = requireNonNull(authorizer, "authorizer");
        }

        /** A credential the request must carry; its value is part of the cache key. Required, repeatable. */
        public Builder identitySource(CredentialSource source) {
            sources.add(requireNonNull(source, "source"));
            return this;
        }

        /** How long your code may take; 3 s by default. */
        public Builder timeout(Duration timeout) {
            requireNonNull(timeout, "timeout");
            if (timeout.isNegative() || timeout.isZero()) {
                throw new IllegalArgumentException("timeout: " + timeout + " (expected: > 0)");
            }
            this.timeout = timeout;
            return this;
        }

        /** How long a decision is reused for the same identity; 5 minutes by default, zero disables caching. */
        public Builder cacheTtl(Duration ttl) {
            requireNonNull(ttl, "cacheTtl");
            if (ttl.isNegative()) {
                throw new IllegalArgumentException("cacheTtl: " + ttl + " (expected: >= 0)");
            }
            this.cacheTtl = ttl;
            return this;
        }

        /** The most cached decisions; 10,000 by default. */
        public Builder maxCacheEntries(int max) {
            if (max < 1) {
                throw new IllegalArgumentException("maxCacheEntries: " + max + " (expected: > 0)");
            }
            this.maxCacheEntries = max;
            return this;
        }

        /** The most calls of your code at once; 32 by default. More wait briefly, then get 503. */
        public Builder maxConcurrency(int max) {
            if (max < 1) {
                throw new IllegalArgumentException("maxConcurrency: " + max + " (expected: > 0)");
            }
            this.maxConcurrency = max;
            return this;
        }

        /**
         * Builds the authorizer.
         *
         * @throws IllegalStateException if no identity source is set
         */
        public CustomAuthorizer build() {
            if (sources.isEmpty()) {
                throw new IllegalStateException("identitySource: none (expected: at least one, the cache key)");
            }
            return new CustomAuthorizer(this);
        }
    }
}
