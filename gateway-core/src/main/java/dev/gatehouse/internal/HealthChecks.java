package dev.gatehouse.internal;

import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.DoubleSupplier;
import java.util.function.Function;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.gatehouse.CloseStatus;
import dev.gatehouse.Route;
import dev.gatehouse.balance.BackendGroup;
import dev.gatehouse.balance.HealthCheck;

/**
 * The active health checks of a gateway's backend groups: from {@link #start} to {@link #stop}, each target of
 * each group with a {@link HealthCheck} is probed through the adapter's {@link HealthProber} on the gateway's
 * timer, and each outcome goes to the group's {@link Balancer}; a target that goes down has its sessions
 * closed when its group asks for that.
 *
 * <p>One probe of a target at a time: the next is scheduled when the previous one ended (answered, or
 * failed by the check's timeout), an interval later ± {@value #JITTER_PERCENT} %. Thread-safe.
 */
final class HealthChecks {

    private static final Logger LOG = LoggerFactory.getLogger(HealthChecks.class);

    /** How far each wait between probes strays from the interval at random, in percent of it. */
    static final int JITTER_PERCENT = 10;

    private final Ticker ticker;
    private final Function<BackendGroup, Balancer> balancers; // the live state of each group, shared with the pipeline
    private final DoubleSupplier random;                       // uniform in [0, 1), for the jitter
    private final List<Target> targets = new ArrayList<>();    // the targets probed; guarded by this
    private HealthProber prober;                               // non-null from start to stop; guarded by this

    HealthChecks(Ticker ticker, Function<BackendGroup, Balancer> balancers, DoubleSupplier random) {
        this.ticker = ticker;
        this.balancers = balancers;
        this.random = random;
    }

    /**
     * Starts probing the targets of the routes' groups that have a health check, each group once however
     * many routes share it. Does nothing when already started.
     */
    synchronized void start(HealthProber prober, List<Route> routes) {
        if (this.prober != null) {
            return;
        }
        this.prober = prober;
        probe(checkedGroups(routes));
    }

    /**
     * Follows a new route table: the groups no route has any more are no longer probed, new ones are; the
     * groups in both keep their probes and state. Does nothing before {@link #start} or after {@link #stop}.
     */
    synchronized void follow(List<Route> routes) {
        if (prober == null) {
            return;
        }
        Set<BackendGroup> wanted = checkedGroups(routes);
        targets.removeIf(t -> {
            if (wanted.contains(t.balancer.group())) {
                return false;
            }
            t.stop();
            return true;
        });
        Set<BackendGroup> probed = new HashSet<>();
        targets.forEach(t -> probed.add(t.balancer.group()));
        wanted.removeAll(probed);
        probe(wanted);
    }

    /** The distinct groups of the routes that have a health check, in the routes' order. */
    private static Set<BackendGroup> checkedGroups(List<Route> routes) {
        Set<BackendGroup> groups = new LinkedHashSet<>();
        for (Route route : routes) {
            if (route.backend().orElse(null) instanceof BackendGroup group && group.healthCheck().isPresent()) {
                groups.add(group);
            }
        }
        return groups;
    }

    /** Starts probing each target of these groups; under the lock. */
    private void probe(Set<BackendGroup> groups) {
        for (BackendGroup group : groups) {
            Balancer balancer = balancers.apply(group);
            HealthCheck check = group.healthCheck().get();
            for (int i = 0; i < group.targets().size(); i++) {
                Target t = new Target(balancer, i, probeUri(group.targets().get(i).url(), check), check);
                targets.add(t);
                // The first probe soon, but not all of them at the same moment.
                t.schedule((long) (check.interval().toNanos() * JITTER_PERCENT / 100.0 * random.getAsDouble()));
            }
        }
    }

    /** Stops every probe: none starts after this, and the answers of those in flight are ignored. */
    synchronized void stop() {
        prober = null;
        for (Target t : targets) {
            t.stop();
        }
        targets.clear();
    }

    /** How many targets are being probed. */
    synchronized int probed() {
        return targets.size();
    }

    /**
     * What a check probes for a target URL template: its own URL, or the check's path on its host and port;
     * {@code http(s)://} for an HTTP check.
     */
    static URI probeUri(String template, HealthCheck check) {
        if (check.path().isEmpty()) {
            return URI.create(template); // the group made sure it has no parameters
        }
        URI base = URI.create(template.replaceAll("\\{[^}]*}", "x"));
        String scheme = base.getScheme().toLowerCase(Locale.ROOT);
        if (check.kind() == HealthCheck.Kind.HTTP) {
            scheme = scheme.equals("wss") ? "https" : "http";
        }
        return URI.create(scheme + "://" + base.getRawAuthority() + check.path().get());
    }

    /** A probe's failure as the debug log shows it: the exception's class and message. */
    private static String describe(Throwable failure) {
        Throwable t = failure;
        while (t instanceof CompletionException && t.getCause() != null) {
            t = t.getCause();
        }
        return t.getClass().getSimpleName() + (t.getMessage() == null ? "" : ": " + t.getMessage());
    }

    /** A URL as the logs show it: without its query, which may hold a secret. */
    private static String withoutQuery(String url) {
        int q = url.indexOf('?');
        return q < 0 ? url : url.substring(0, q);
    }

    /** The wait before a target's next probe: the interval ± the jitter. */
    long nextDelay(Duration interval) {
        double factor = 1 + JITTER_PERCENT / 100.0 * (2 * random.getAsDouble() - 1);
        return (long) (interval.toNanos() * factor);
    }

    /** One probed target, and its probe in progress. */
    private final class Target {
        private final Balancer balancer;
        private final int index;
        private final URI uri;
        private final HealthCheck check;
        private final String name; // the target's URL template, as the logs name it
        private Future<?> next;    // the next probe's start, or its timeout while it runs; guarded by HealthChecks.this
        private long round;        // the number of the latest probe; guarded by HealthChecks.this
        private boolean settled = true; // the latest probe's outcome is counted; guarded by HealthChecks.this
        private boolean stopped;   // guarded by HealthChecks.this

        Target(Balancer balancer, int index, URI uri, HealthCheck check) {
            this.balancer = balancer;
            this.index = index;
            this.uri = uri;
            this.check = check;
            this.name = withoutQuery(balancer.group().targets().get(index).url());
        }

        /** Under the lock. */
        void schedule(long delayNanos) {
            next = ticker.schedule(this::probe, delayNanos, TimeUnit.NANOSECONDS);
        }

        /** Under the lock. */
        void stop() {
            stopped = true;
            if (next != null) {
                next.cancel(false);
                next = null;
            }
        }

        private void probe() {
            HealthProber p;
            long r;
            synchronized (HealthChecks.this) {
                if (stopped) {
                    return;
                }
                p = prober;
                r = ++round;
                settled = false;
                next = ticker.schedule(() -> settle(r, false, "no answer within " + check.timeout().toMillis() + " ms", true),
                        check.timeout().toNanos(), TimeUnit.NANOSECONDS);
            }
            CompletionStage<Boolean> answer;
            try {
                answer = p.probe(uri, check);
            } catch (RuntimeException e) {
                answer = CompletableFuture.failedFuture(e);
            }
            if (answer == null) {
                answer = CompletableFuture.failedFuture(new IllegalStateException("the prober returned null"));
            }
            answer.whenComplete((up, failure) -> settle(r, failure == null && Boolean.TRUE.equals(up),
                    failure == null ? "down" : describe(failure), false));
        }

        /**
         * Counts the outcome of probe {@code r}, once, and schedules the next probe.
         *
         * @param what    why it failed, for the debug log
         * @param timeout whether the probe's timeout is settling it
         */
        private void settle(long r, boolean up, String what, boolean timeout) {
            Balancer.Change change;
            synchronized (HealthChecks.this) {
                if (stopped || r != round || settled) {
                    return; // stopped, or this probe already counted (an answer after its timeout)
                }
                settled = true;
                if (!timeout && next != null) {
                    next.cancel(false); // the timeout: the answer came first
                }
                schedule(nextDelay(check.interval()));
                // Counted under this lock, so that the outcomes of a target's probes count in their order.
                change = balancer.probed(index, up);
            }
            if (!up) {
                LOG.debug("Health probe of backend target {} failed: {}", name, what);
            }
            if (change == Balancer.Change.UP) {
                LOG.info("Backend target {} is up: {} probe(s) in a row succeeded", name, check.rise());
            } else if (change == Balancer.Change.DOWN) {
                LOG.warn("Backend target {} is down: {} probe(s) in a row failed", name, check.fall());
                balancer.group().closeSessionsOnDown().ifPresent(window -> {
                    List<Bridge> sessions = balancer.sessionsOf(index);
                    if (!sessions.isEmpty()) {
                        LOG.info("Closing {} session(s) of backend target {} over {}", sessions.size(), name, window);
                        Spread.over(ticker, sessions, window,
                                b -> b.close(CloseStatus.SERVICE_RESTART, CloseStatus.GOING_AWAY, "target down"));
                    }
                });
            }
        }
    }
}
