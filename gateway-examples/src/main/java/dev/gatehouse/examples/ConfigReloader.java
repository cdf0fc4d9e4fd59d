package dev.gatehouse.examples;

import java.io.IOException;
import java.io.PrintStream;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.gatehouse.Gateway;
import dev.gatehouse.GatewayException;
import dev.gatehouse.Route;
import dev.gatehouse.hazelcast.HazelcastCluster;
import dev.gatehouse.spi.LimiterStore;

/**
 * Reloads the runner's config file into its running gateway: on {@code SIGHUP}, and when the file changes
 * (a {@link WatchService} on its directory, debounced). A reload reads the file as the start did, applies the
 * same flags over it, and replaces the gateway's routes with {@link Gateway#update(List)}, reusing the
 * running {@link Route} of every entry that did not change, so that its state (connection counts, rate-limit
 * buckets) survives. It prints one line per reload, {@code reload: version 3, routes: 1 added, 1 changed,
 * 0 removed}; a bad file prints the start's one-line error ({@code error: FILE: KEY.PATH: problem}) and
 * leaves the running routes as they are. Values that only a restart can change (port, host, the gateway-wide
 * settings, auth and origins, the management API, the cluster) keep their running values, with a warning naming them.
 *
 * <p>Reloads run one at a time on a daemon thread of their own.
 */
final class ConfigReloader implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(ConfigReloader.class);

    /** How long the file must be quiet after a change before it is read: editors write in several steps. */
    static final long DEBOUNCE_MILLIS = 200;

    private final List<String> args;
    private final Function<String, String> environment;
    private final RunnerConfig running; // the file as the gateway-wide values were taken from it, at start
    private final Path file;
    private final Gateway gateway;
    private final List<Route> demoRoutes; // the demo's routes when the runner runs the demo, else empty
    private final Optional<LimiterStore> clusterLimits; // the running cluster's store of shared limits; empty: none
    private final PrintStream out;
    private final PrintStream err;
    private final ScheduledExecutorService reloads;
    private Map<Object, Route> bySource; // the running routes by what they were built from; reload thread only
    private byte[] applied;              // the file's content as last read by a reload; reload thread only
    private ScheduledFuture<?> pending;  // the debounced reload of a change; guarded by this
    private WatchService watcher;        // null when the directory cannot be watched; set once by start()
    private Object previousHangup;       // the SIGHUP handler before ours, restored by close(); null: none installed

    private ConfigReloader(List<String> args, Function<String, String> environment, RunnerOptions started,
            StandaloneServer server, PrintStream out, PrintStream err) {
        this.args = List.copyOf(args);
        this.environment = environment;
        this.running = started.config().orElseThrow(() -> new IllegalArgumentException("no --config"));
        this.file = Path.of(running.file()).toAbsolutePath();
        this.gateway = server.gateway();
        this.demoRoutes = server.isDemo() ? server.routes() : List.of();
        this.clusterLimits = server.cluster().map(HazelcastCluster::limiterStore);
        this.out = out;
        this.err = err;
        this.bySource = sources(started, server.gateway().routes());
        this.applied = read();
        ScheduledThreadPoolExecutor executor = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, "gatehouse-reload");
            t.setDaemon(true);
            return t;
        });
        executor.setRemoveOnCancelPolicy(true);
        this.reloads = executor;
    }

    /**
     * Starts reloading the file of {@code --config} into the server's gateway: installs the {@code SIGHUP}
     * handler and watches the file's directory.
     *
     * @param args    the runner's flags, applied over the file at each reload as at start
     * @param started the options the runner started with, which have a config file
     */
    static ConfigReloader start(List<String> args, Function<String, String> environment, RunnerOptions started,
            StandaloneServer server, PrintStream out, PrintStream err) {
        ConfigReloader r = new ConfigReloader(args, environment, started, server, out, err);
        r.previousHangup = Hangup.install(() -> {
            try {
                r.reloads.execute(() -> r.reload(true));
            } catch (RejectedExecutionException e) {
                // closed: the runner is stopping
            }
        });
        if (r.previousHangup == null) {
            err.println("warning: SIGHUP cannot be handled on this JVM; the config file is reloaded when it changes");
        }
        r.watch();
        return r;
    }

    /** Reloads now, on the reload thread; the future completes when it is done. For tests. */
    Future<?> reloadNow() {
        return reloads.submit(() -> reload(true));
    }

    private void watch() {
        Path dir = file.getParent();
        try {
            watcher = FileSystems.getDefault().newWatchService();
            dir.register(watcher, StandardWatchEventKinds.ENTRY_CREATE, StandardWatchEventKinds.ENTRY_MODIFY,
                    StandardWatchEventKinds.ENTRY_DELETE);
        } catch (IOException | RuntimeException e) {
            err.println("warning: " + running.file() + ": cannot watch its directory (" + e.getMessage()
                    + "); send SIGHUP to reload it");
            return;
        }
        Thread t = new Thread(this::watchLoop, "gatehouse-config-watch");
        t.setDaemon(true);
        t.start();
    }

    /**
     * Waits for changes in the file's directory; any change there (the file itself, or a link swapped to it,
     * as Kubernetes does) schedules a check of the file, after it has been quiet for a moment.
     */
    private void watchLoop() {
        try {
            while (true) {
                WatchKey key = watcher.take();
                key.pollEvents();
                synchronized (this) {
                    if (pending != null) {
                        pending.cancel(false);
                    }
                    pending = reloads.schedule(() -> reload(false), DEBOUNCE_MILLIS, TimeUnit.MILLISECONDS);
                }
                if (!key.reset()) {
                    err.println("warning: " + running.file() + ": its directory is gone; send SIGHUP to reload it");
                    return;
                }
            }
        } catch (InterruptedException | ClosedWatchServiceException e) {
            // closed
        } catch (RejectedExecutionException e) {
            // closed while scheduling
        }
    }

    /** The file's bytes, or null when it cannot be read (the reload then reports why). */
    private byte[] read() {
        try {
            return Files.readAllBytes(file);
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    /**
     * Reads the file and applies it. A change seen by the watcher is applied only when the file's content
     * differs from the last one read; a signal always reloads.
     */
    private void reload(boolean always) {
        try {
            byte[] content = read();
            if (!always && content != null && Arrays.equals(content, applied)) {
                return;
            }
            applied = content;
            apply();
        } catch (RuntimeException | Error e) {
            LOG.error("Reloading {} failed", file, e);
            err.println("error: " + running.file() + ": reload failed: " + e);
            err.flush();
        }
    }

    private void apply() {
        List<String> restart = new ArrayList<>();
        RunnerOptions next;
        try {
            next = RunnerOptions.parse(args, environment, fresh -> keepRunning(fresh, restart));
        } catch (UsageException e) {
            err.println("error: " + e.getMessage());
            err.flush();
            return;
        }
        // The running cluster block stays (keepRunning), so the new routes' rate limits count in the running cluster.
        next.clusterLimits().ifPresent(limits -> clusterLimits.ifPresent(limits::bind));
        next.warnings().forEach(w -> err.println("warning: " + w));
        if (!restart.isEmpty()) {
            err.println("warning: " + running.file() + ": " + String.join(", ", restart)
                    + ": changed, needs a restart (the running values stay)");
        }
        List<Route> routes = new ArrayList<>();
        Map<Object, Route> sources = new HashMap<>();
        for (int i = 0; i < next.routes().size(); i++) {
            Object source = next.routeSources().get(i);
            Route route = bySource.getOrDefault(source, next.routes().get(i));
            routes.add(route);
            sources.put(source, route);
        }
        if (routes.isEmpty()) {
            if (demoRoutes.isEmpty()) {
                err.println("error: " + running.file() + ": routes: none (expected at least one route; the demo "
                        + "runs only when the runner starts without routes)");
                err.flush();
                return;
            }
            routes = demoRoutes;
        }
        Gateway.Update update;
        try {
            update = gateway.update(routes);
        } catch (GatewayException e) {
            err.println("error: " + running.file() + ": " + e.getMessage());
            err.flush();
            return;
        }
        bySource = sources;
        out.println("reload: version " + update.version() + ", routes: " + (update.changedNothing() ? "no change"
                : update.added().size() + " added, " + update.changed().size() + " changed, "
                        + update.removed().size() + " removed"));
        out.flush();
        err.flush();
    }

    /**
     * The freshly read file with the values a reload cannot change put back to the running ones, adding to
     * {@code restart} the keys whose value differs.
     */
    private RunnerConfig keepRunning(RunnerConfig fresh, List<String> restart) {
        differs(restart, "port", running.port(), fresh.port());
        differs(restart, "host", running.host(), fresh.host());
        differs(restart, "settings", running.settings(), fresh.settings());
        differs(restart, "auth", running.auth(), fresh.auth());
        differs(restart, "allowOrigins", running.allowOrigins(), fresh.allowOrigins());
        differs(restart, "allowMissingOrigin", running.allowMissingOrigin(), fresh.allowMissingOrigin());
        differs(restart, "requestTimeout", running.requestTimeout(), fresh.requestTimeout());
        differs(restart, "authFailureLimit", running.authFailureLimit(), fresh.authFailureLimit());
        differs(restart, "management", running.management(), fresh.management());
        differs(restart, "metrics", running.metrics(), fresh.metrics());
        differs(restart, "cluster", running.cluster(), fresh.cluster());
        return new RunnerConfig(fresh.file(), running.port(), running.host(), running.settings(), running.auth(),
                running.allowOrigins(), running.allowMissingOrigin(), running.requestTimeout(),
                running.authFailureLimit(), fresh.routes(), running.management(), running.metrics(),
                running.cluster());
    }

    private static void differs(List<String> restart, String key, Object running, Object fresh) {
        if (!Objects.equals(running, fresh)) {
            restart.add(key);
        }
    }

    /** The routes by source, for the routes the gateway runs now as the options built them. */
    private static Map<Object, Route> sources(RunnerOptions options, List<Route> routes) {
        Map<Object, Route> map = new HashMap<>();
        for (int i = 0; i < options.routes().size() && i < routes.size(); i++) {
            if (options.routes().get(i) == routes.get(i)) {
                map.put(options.routeSources().get(i), routes.get(i));
            }
        }
        return map;
    }

    /** Stops watching and reloading, and gives SIGHUP back to the handler it had. */
    @Override
    public void close() {
        if (previousHangup != null) {
            Hangup.restore(previousHangup);
        }
        try {
            if (watcher != null) {
                watcher.close();
            }
        } catch (IOException e) {
            LOG.debug("Closing the config file's watch failed", e);
        }
        reloads.shutdownNow();
    }

    /**
     * {@code SIGHUP}, through {@code sun.misc.Signal} (module {@code jdk.unsupported}, exported to all on every
     * JDK since 9), reached by reflection: {@code javac --release 17} compiles a direct use, but with the
     * mandatory warning "Signal is internal proprietary API and may be removed in a future release", which no
     * {@code @SuppressWarnings} silences and which the build's {@code -Werror} turns into an error.
     */
    static final class Hangup {
        private Hangup() {
        }

        /** Runs {@code action} on each SIGHUP; returns the handler it replaced, or null when that is not possible. */
        static Object install(Runnable action) {
            try {
                Class<?> signal = Class.forName("sun.misc.Signal");
                Class<?> handler = Class.forName("sun.misc.SignalHandler");
                InvocationHandler calls = (Object proxy, Method method, Object[] a) -> {
                    switch (method.getName()) {
                        case "handle":
                            action.run();
                            return null;
                        case "hashCode":
                            return System.identityHashCode(proxy);
                        case "equals":
                            return proxy == a[0];
                        default:
                            return "SIGHUP reload";
                    }
                };
                Object ours = Proxy.newProxyInstance(handler.getClassLoader(), new Class<?>[] {handler}, calls);
                Object hup = signal.getConstructor(String.class).newInstance("HUP");
                return signal.getMethod("handle", signal, handler).invoke(null, hup, ours);
            } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
                LOG.debug("SIGHUP cannot be handled", e);
                return null;
            }
        }

        /** Puts back the handler that {@link #install} replaced. */
        static void restore(Object previous) {
            try {
                Class<?> signal = Class.forName("sun.misc.Signal");
                Class<?> handler = Class.forName("sun.misc.SignalHandler");
                signal.getMethod("handle", signal, handler).invoke(null, signal.getConstructor(String.class).newInstance("HUP"),
                        previous);
            } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
                LOG.debug("SIGHUP's handler cannot be restored", e);
            }
        }
    }
}
