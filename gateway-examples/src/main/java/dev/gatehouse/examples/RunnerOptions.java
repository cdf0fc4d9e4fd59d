package dev.gatehouse.examples;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import dev.gatehouse.Authenticator;
import dev.gatehouse.Backend;
import dev.gatehouse.Gateway;
import dev.gatehouse.Route;
import dev.gatehouse.Settings;
import dev.gatehouse.auth.ApiKeyAuthenticator;
import dev.gatehouse.auth.AuthFailureLimit;
import dev.gatehouse.auth.CredentialSource;
import dev.gatehouse.auth.JwtAuthenticator;
import dev.gatehouse.policy.LimitKey;
import dev.gatehouse.policy.OriginPolicy;
import dev.gatehouse.policy.RateLimitPolicy;
import dev.gatehouse.routing.Integration;
import dev.gatehouse.routing.WebSocketApi;

/**
 * The standalone runner's command line and config file, parsed and validated: every value is already turned
 * into the Gatehouse object it configures, so a bad value is reported by {@link #parse(List)} with the flag's
 * name or the file's key, before anything starts.
 *
 * <p>With {@code --config FILE}, the file's values come first and the flags are applied over them: a flag
 * that sets one value ({@code --port}, {@code --idle-timeout}, {@code --jwt-issuer}...) replaces the file's
 * top-level key ({@code port}, {@code settings.idleTimeout}, {@code auth.jwt.issuer}), and a repeatable flag
 * ({@code --route}, {@code --api-key}, {@code --allow-origin}) adds to the file's list ({@code routes},
 * {@code auth.apiKeys}, {@code allowOrigins}). A route's own {@code settings} and {@code auth} are not
 * top-level values: flags do not change them.
 */
final class RunnerOptions {

    /** Every flag, in the order {@code --help} lists them. */
    enum Flag {
        CONFIG("--config", "FILE", "a YAML or JSON config file; the flags below override its values or add "
                + "to its lists (see below)"),
        PORT("--port", "N", "listen port (default " + DEFAULT_PORT + "; 0 picks a free port)"),
        HOST("--host", "HOST", "interface to listen on (default " + Standalone.ALL_INTERFACES + ", all interfaces)"),
        ROUTE("--route", "PATH=URL", "repeatable; relays PATH (/chat/{room}) to URL (ws://b:9000/rooms/{room})"),
        IDLE_TIMEOUT("--idle-timeout", "D", "closes connections idle this long (default "
                + text(Settings.defaults().idleTimeout()) + "; 0 disables)"),
        PING_INTERVAL("--ping-interval", "D", "keepalive ping interval on both legs (default "
                + text(Settings.defaults().pingInterval()) + "; 0 disables)"),
        CONNECT_TIMEOUT("--connect-timeout", "D", "backend connect and handshake timeout (default "
                + text(Settings.defaults().connectTimeout()) + ")"),
        REQUEST_TIMEOUT("--request-timeout", "D", "closes connections that send no complete request within D (default "
                + text(DEFAULT_REQUEST_TIMEOUT) + "; 0 disables)"),
        MAX_MESSAGE_SIZE("--max-message-size", "BYTES", "largest message either way: 65536, 64k, 1m (default "
                + text(Settings.defaults().maxClientMessageSize()) + "; 0: none)"),
        API_KEY("--api-key", "KEY", "repeatable; requires this key in header X-API-Key or query api_key"),
        JWT_SECRET("--jwt-hs256-secret", "S", "requires a JWT signed with HS256 and S; closes with 1008 when it expires"),
        JWT_ISSUER("--jwt-issuer", "ISS", "the JWT's required iss (with --jwt-hs256-secret)"),
        JWT_AUDIENCE("--jwt-audience", "AUD", "the JWT's required aud (with --jwt-hs256-secret)"),
        ALLOW_ORIGIN("--allow-origin", "ORIGIN", "repeatable; admits only browsers from ORIGIN (https://*.example.com)"),
        ALLOW_MISSING_ORIGIN("--allow-missing-origin", "BOOL", "with --allow-origin: true or false, whether clients "
                + "that send no Origin (not browsers) may connect (default true)"),
        AUTH_FAILURE_LIMIT("--auth-failure-limit", "N", "failed authentications a minute per address, then 429 for 1m "
                + "(default " + AuthFailureLimit.defaults().failures() + "; 0 disables)"),
        MANAGEMENT_PORT("--management-port", "N", "serves the management API on its own port, on "
                + DEFAULT_MANAGEMENT_HOST + " (needs --management-key)"),
        MANAGEMENT_KEY("--management-key", "KEY", "repeatable; the API key every management request sends in X-API-Key"),
        HELP("--help", "", "prints this help and exits");

        private static final Set<Flag> REPEATABLE = EnumSet.of(ROUTE, API_KEY, ALLOW_ORIGIN, MANAGEMENT_KEY);
        private static final Set<Flag> SECRETS = EnumSet.of(API_KEY, JWT_SECRET, MANAGEMENT_KEY);

        final String flag;
        final String argument;
        final String description;

        Flag(String flag, String argument, String description) {
            this.flag = flag;
            this.argument = argument;
            this.description = description;
        }

        boolean takesValue() {
            return !argument.isEmpty();
        }

        boolean repeatable() {
            return REPEATABLE.contains(this);
        }

        /**
         * For a secret, which is often given as {@code "$VARIABLE"}: a hint that an empty value may be an unset
         * environment variable.
         */
        String unsetHint() {
            return SECRETS.contains(this) ? "; is the environment variable it was read from set?" : "";
        }

        static Optional<Flag> named(String name) {
            if (name.equals("-h")) {
                return Optional.of(HELP);
            }
            for (Flag f : values()) {
                if (f.flag.equals(name)) {
                    return Optional.of(f);
                }
            }
            return Optional.empty();
        }
    }

    static final int DEFAULT_PORT = 8080;
    /** Where the management API listens unless the file's {@code management.host} says. */
    static final String DEFAULT_MANAGEMENT_HOST = "127.0.0.1";
    /** How long a client has to send a complete upgrade request, unless {@code --request-timeout} says. */
    static final Duration DEFAULT_REQUEST_TIMEOUT = Duration.ofSeconds(10);
    /** The shortest HS256 secret that is not reported as weak: 256 bits (RFC 7518, section 3.2). */
    static final int MIN_HS256_SECRET = 32;

    private static final Pattern DURATION = Pattern.compile("(\\d{1,18})(ms|s|m|h)?");
    private static final Pattern SIZE = Pattern.compile("(\\d{1,19})([kmg]?)");
    private static final Duration LONGEST = Duration.ofDays(365);
    private static final String DURATION_EXAMPLES = "(expected e.g. 500ms, 30s, 5m)";

    private final boolean help;
    private final int port;
    private final String host; // empty: all interfaces
    private final List<Route> routes; // with their authenticator and policies
    private final List<Object> routeSources; // what each route was built from, in the same order
    private final RunnerConfig config; // null: no --config
    private final Settings settings;
    private final Duration requestTimeout; // zero: none
    private final Authenticator authenticator; // null: no credential flag nor the file's auth
    private final OriginPolicy origins; // null: no --allow-origin nor allowOrigins
    private final AuthFailureLimit authFailureLimit;
    private final List<String> warnings;
    private final boolean apiKeyRequired;
    private final boolean jwtRequired;
    private final Management management; // null: off
    private final ClusterLimiterStore clusterLimits; // the store of the file's rate limits with a cluster block; else null

    /**
     * Where and for whom the management API listens.
     *
     * @param port          its port; 0 picks a free one
     * @param host          its interface, loopback unless the file says
     * @param authenticator the API keys it requires, in {@code X-API-Key}
     */
    record Management(int port, String host, Authenticator authenticator, boolean metrics) {
    }

    private RunnerOptions(Parser p) {
        this.help = p.help;
        this.port = p.port;
        this.host = p.host;
        this.settings = p.settings.build();
        this.requestTimeout = p.requestTimeout;
        this.authenticator = p.authenticator();
        this.origins = p.origins();
        this.authFailureLimit = p.authFailureLimit;
        this.apiKeyRequired = p.keyCount > 0;
        this.jwtRequired = p.jwtSecret != null;
        this.management = p.management();
        this.config = p.config;
        this.clusterLimits = p.config != null && p.config.cluster().isPresent() ? new ClusterLimiterStore() : null;
        List<Route> all = new ArrayList<>();
        List<Object> sources = new ArrayList<>();
        if (p.config != null) {
            for (RunnerConfig.RouteEntry entry : p.config.routes()) {
                all.add(fileRoute(p.config, entry, p.warnings));
                // Where the entry is in the file does not change the route it makes.
                sources.add(new RunnerConfig.RouteEntry("", entry.path(), entry.target(), entry.settings(), entry.auth(),
                        entry.limits()));
            }
            checkConflicts(all, p.config.file());
        }
        all.addAll(p.routes);
        p.routeFlags.forEach(v -> sources.add(Flag.ROUTE.flag + " " + v));
        if (!p.routes.isEmpty()) {
            checkConflicts(all, Flag.ROUTE.flag);
        }
        this.routes = List.copyOf(all);
        this.routeSources = List.copyOf(sources);
        this.warnings = List.copyOf(p.warnings);
    }

    /**
     * Parses a command line. Flags take their value as the next argument or after {@code =}
     * ({@code --port 9000}, {@code --port=9000}); {@code --help} stops parsing.
     *
     * @throws UsageException naming the flag, for an unknown flag, a missing or malformed value, or a value
     *                        that a Gatehouse builder refuses
     */
    static RunnerOptions parse(List<String> args) {
        return parse(args, System::getenv);
    }

    /**
     * {@link #parse(List)}, with these environment variables for the config file's secrets written
     * {@code ${NAME}}: a name's value, or null when it is not set.
     */
    static RunnerOptions parse(List<String> args, Function<String, String> environment) {
        return parse(args, environment, UnaryOperator.identity());
    }

    /**
     * {@link #parse(List, Function)}, with the config file's content changed by {@code read} before the flags
     * apply over it: a reload keeps the running gateway-wide values this way.
     */
    static RunnerOptions parse(List<String> args, Function<String, String> environment, UnaryOperator<RunnerConfig> read) {
        Parser p = new Parser();
        List<Map.Entry<Flag, String>> given = new ArrayList<>();
        for (int i = 0; i < args.size() && !p.help; i++) {
            String arg = args.get(i);
            if (!arg.startsWith("-") || arg.equals("-")) {
                throw UsageException.general("unexpected argument \"" + arg + "\" (flags start with --; see --help)");
            }
            int eq = arg.indexOf('=');
            String name = eq < 0 ? arg : arg.substring(0, eq);
            Flag flag = Flag.named(name).orElseThrow(() -> UsageException.of(name, "unknown flag (see --help)"));
            String value;
            if (!flag.takesValue()) {
                if (eq >= 0) {
                    throw UsageException.of(name, "takes no value");
                }
                value = "";
            } else if (eq >= 0) {
                value = arg.substring(eq + 1);
            } else if (i + 1 < args.size() && !args.get(i + 1).startsWith("--")) {
                value = args.get(++i);
            } else {
                throw UsageException.of(name, "missing value (expected " + flag.argument + flag.unsetHint() + ")");
            }
            if (flag.takesValue() && value.isEmpty()) {
                throw UsageException.of(name, "missing value (expected " + flag.argument + flag.unsetHint() + ")");
            }
            if (!p.seen.add(flag) && !flag.repeatable()) {
                throw UsageException.of(name, "given more than once");
            }
            if (flag == Flag.HELP) {
                p.help = true;
            } else {
                given.add(Map.entry(flag, value));
            }
        }
        if (p.help) {
            return new RunnerOptions(p);
        }
        // The file first, then the flags over it.
        for (Map.Entry<Flag, String> f : given) {
            if (f.getKey() == Flag.CONFIG) {
                p.seed(read.apply(ConfigFile.read(f.getValue(), environment)));
            }
        }
        for (Map.Entry<Flag, String> f : given) {
            if (f.getKey() != Flag.CONFIG) {
                p.accept(f.getKey(), f.getValue());
            }
        }
        return new RunnerOptions(p);
    }

    /** The text of {@code --help}: usage, then one line per flag. */
    static String helpText() {
        StringBuilder sb = new StringBuilder();
        sb.append("Usage: java -jar gatehouse-standalone.jar [options]\n\n");
        sb.append("Starts a Gatehouse WebSocket gateway. Without --route it runs a demo: echo and chat backends\n");
        sb.append("behind the gateway at /echo and /chat/{room}, chat rooms as a WebSocket API at /rooms, and a\n");
        sb.append("chat page at /. Route URLs may use the path's {params}; a path ending in /* appends the rest\n");
        sb.append("of the path to the URL.\n\n");
        sb.append("Options (--flag value or --flag=value):\n");
        for (Flag f : Flag.values()) {
            String left = f.flag + (f.takesValue() ? " " + f.argument : "");
            sb.append(String.format(Locale.ROOT, "  %-27s %s%n", left, f.description));
        }
        sb.append("\nDurations: a number with ms, s, m or h, or 0.\n");
        sb.append("A JWT is read from Authorization: Bearer, the query parameter access_token, or the subprotocol\n");
        sb.append("pair bearer, bearer.<jwt>. With --api-key too, a client may present either credential.\n");
        sb.append("\nWith --config FILE (YAML, or JSON; README, \"Config file\"), the file is read first and the flags\n");
        sb.append("apply over it. These replace the file's value: --port (port), --host (host), --idle-timeout,\n");
        sb.append("--ping-interval, --connect-timeout, --max-message-size (settings.*, gateway-wide; a route's own\n");
        sb.append("settings still win for it), --request-timeout (requestTimeout), --auth-failure-limit\n");
        sb.append("(authFailureLimit), --jwt-hs256-secret, --jwt-issuer, --jwt-audience (auth.jwt.*, each on its own).\n");
        sb.append("These add to the file's list: --route (after routes), --api-key (after auth.apiKeys), --allow-origin\n");
        sb.append("(to allowOrigins); --allow-missing-origin replaces allowMissingOrigin. Credential flags are\n");
        sb.append("gateway-wide: a route with its own auth keeps it. A bad file exits with status 2 and one line:\n");
        sb.append("error: FILE: KEY.PATH: problem. In the file, a key or secret written \"${NAME}\" is read from the\n");
        sb.append("environment variable NAME.\n");
        sb.append("The runner reads the file again on SIGHUP and whenever it changes, and applies its routes without\n");
        sb.append("dropping a connection, printing reload: version N, routes: A added, C changed, R removed. A bad file\n");
        sb.append("is refused with the same one-line error and the running routes stay; port, host and the other\n");
        sb.append("gateway-wide values need a restart (a warning says which changed).\n");
        sb.append("\nExit status: 0 after a clean stop (Ctrl-C or SIGTERM drains the gateway first), 1 when it cannot\n");
        sb.append("start (e.g. the port is in use), 2 for a bad flag or config file.\n");
        sb.append("\nRecommended JVM flags, which cap the heap and give memory back when idle:\n");
        sb.append("  java -Xms64m -Xmx256m -XX:MinHeapFreeRatio=5 -XX:MaxHeapFreeRatio=10 -XX:G1PeriodicGCInterval=15000 \\\n");
        sb.append("       -jar gatehouse-standalone.jar [options]\n");
        return sb.toString();
    }

    /** Whether {@code --help} was given; nothing else matters then. */
    boolean help() {
        return help;
    }

    /** The listen port; 0 picks a free one. */
    int port() {
        return port;
    }

    /** The interface to listen on; empty for all. */
    Optional<String> host() {
        return host.isEmpty() ? Optional.empty() : Optional.of(host);
    }

    /**
     * The routes of the file, then those of {@code --route}, in order; empty for the demo. A file route with an
     * {@code auth} of its own has that authenticator ({@code auth: none}: {@link Authenticator#none()}); the
     * others have none of their own, and the gateway's ({@link #applyTo}) authenticates them.
     */
    List<Route> routes() {
        return routes;
    }

    /**
     * What each of {@link #routes()} was built from, in the same order: equal sources make equal routes, so
     * that a reload can keep the running route of an entry that did not change. A file route's source is its
     * entry without its place in the file; a flag route's, the flag and its value.
     */
    List<Object> routeSources() {
        return routeSources;
    }

    /** The config file as read, when {@code --config} gave one. */
    Optional<RunnerConfig> config() {
        return Optional.ofNullable(config);
    }

    /**
     * Gives a gateway the options' gateway-wide parts: settings, the brake on failed authentications, the
     * authenticator of the credential flags and the file's {@code auth}, and the origin policy.
     */
    Gateway.Builder applyTo(Gateway.Builder gateway) {
        gateway.settings(settings).authFailureLimit(authFailureLimit);
        if (authenticator != null) {
            gateway.authenticator(authenticator);
        }
        if (origins != null) {
            gateway.policy(origins);
        }
        return gateway;
    }

    /** The gateway's settings: Gatehouse's defaults changed by the file's {@code settings}, then by the flags. */
    Settings settings() {
        return settings;
    }

    /**
     * How long a client has to send a complete request (line and header block) after connecting; zero when
     * {@code --request-timeout 0} turned the deadline off.
     */
    Duration requestTimeout() {
        return requestTimeout;
    }

    /**
     * The authenticator of every route without its own, when {@code --api-key}, {@code --jwt-hs256-secret} or
     * the file's {@code auth} gave one.
     */
    Optional<Authenticator> authenticator() {
        return Optional.ofNullable(authenticator);
    }

    /** Whether gateway-wide API keys were given ({@code --api-key} or {@code auth.apiKeys}). */
    boolean apiKeyRequired() {
        return apiKeyRequired;
    }

    /** Whether a gateway-wide JWT secret was given ({@code --jwt-hs256-secret} or {@code auth.jwt.hs256Secret}). */
    boolean jwtRequired() {
        return jwtRequired;
    }

    /** The management API, when {@code --management-port} or the file's {@code management} turned it on. */
    Optional<Management> management() {
        return Optional.ofNullable(management);
    }

    /** The Hazelcast cluster the config file's {@code cluster} block has this runner join; empty: none. */
    Optional<RunnerConfig.Cluster> cluster() {
        return config == null ? Optional.empty() : config.cluster();
    }

    /**
     * With a {@code cluster} block, the store of the file's rate limits, to be bound to the cluster's
     * {@code limiterStore()} before the routes serve; empty without one (each rate limit then counts in memory).
     */
    Optional<ClusterLimiterStore> clusterLimits() {
        return Optional.ofNullable(clusterLimits);
    }

    /** Advice about accepted but doubtful values, one line each, e.g. a short JWT secret. */
    List<String> warnings() {
        return warnings;
    }

    /** The origins every route admits, when {@code --allow-origin} or {@code allowOrigins} gave some. */
    Optional<OriginPolicy> origins() {
        return Optional.ofNullable(origins);
    }

    /** The brake on failed authentications per client address: {@code --auth-failure-limit} a minute. */
    AuthFailureLimit authFailureLimit() {
        return authFailureLimit;
    }

    /** A duration as the flags write it: {@code 10m}, {@code 30s}, {@code 250ms}. */
    static String text(Duration d) {
        long ms = d.toMillis();
        if (ms != 0 && ms % 3_600_000 == 0) {
            return ms / 3_600_000 + "h";
        } else if (ms != 0 && ms % 60_000 == 0) {
            return ms / 60_000 + "m";
        } else if (ms % 1000 == 0) {
            return ms / 1000 + "s";
        }
        return ms + "ms";
    }

    /** A byte count as the flags write it: {@code 64m}, {@code 16k}, {@code 1000}. */
    static String text(long bytes) {
        if (bytes != 0 && bytes % (1L << 30) == 0) {
            return (bytes >> 30) + "g";
        } else if (bytes != 0 && bytes % (1L << 20) == 0) {
            return (bytes >> 20) + "m";
        } else if (bytes != 0 && bytes % (1L << 10) == 0) {
            return (bytes >> 10) + "k";
        }
        return Long.toString(bytes);
    }

    /**
     * Parses a duration: digits with ms, s, m or h, or a plain 0.
     *
     * @param name what a mistake names: the flag, or the config file and key
     */
    static Duration duration(String name, String value) {
        Matcher m = DURATION.matcher(value.toLowerCase(Locale.ROOT));
        if (!m.matches() || (m.group(2) == null && Long.parseLong(m.group(1)) != 0)) {
            throw UsageException.of(name, "bad duration \"" + value + "\" " + DURATION_EXAMPLES);
        }
        long n = Long.parseLong(m.group(1));
        UsageException tooLong = UsageException.of(name, "bad duration \"" + value + "\" (expected at most "
                + text(LONGEST) + ")");
        try {
            Duration d = switch (m.group(2) == null ? "ms" : m.group(2)) {
                case "ms" -> Duration.ofMillis(n);
                case "s" -> Duration.ofSeconds(n);
                case "m" -> Duration.ofMinutes(n);
                default -> Duration.ofHours(n);
            };
            if (d.compareTo(LONGEST) > 0) {
                throw tooLong;
            }
            return d;
        } catch (ArithmeticException e) {
            throw tooLong;
        }
    }

    /** Parses a connect timeout: a duration that is not 0. */
    static Duration connectTimeout(String name, String value) {
        Duration d = duration(name, value);
        if (d.isZero()) {
            throw UsageException.of(name, "bad duration \"" + value + "\" (expected more than 0, e.g. 5s)");
        }
        return d;
    }

    /** Parses a byte count: digits with an optional binary k, m or g suffix. */
    static long size(String name, String value) {
        Matcher m = SIZE.matcher(value.toLowerCase(Locale.ROOT));
        try {
            if (m.matches()) {
                long n = Long.parseLong(m.group(1));
                int shift = switch (m.group(2)) {
                    case "k" -> 10;
                    case "m" -> 20;
                    case "g" -> 30;
                    default -> 0;
                };
                return Math.multiplyExact(n, 1L << shift);
            }
        } catch (ArithmeticException | NumberFormatException e) {
            // too large: reported below
        }
        throw UsageException.of(name, "bad size \"" + value + "\" (expected bytes, e.g. 65536, 64k, 1m)");
    }

    /** Parses {@code true} or {@code false}. */
    static boolean bool(String name, String value) {
        return switch (value) {
            case "true" -> true;
            case "false" -> false;
            default -> throw UsageException.of(name, "bad value \"" + value + "\" (expected true or false)");
        };
    }

    /** Parses a port: 0 to 65535. */
    static int port(String name, String value) {
        if (value.matches("\\d{1,5}") && Integer.parseInt(value) <= 65535) {
            return Integer.parseInt(value);
        }
        throw UsageException.of(name, "bad port \"" + value + "\" (expected 0-65535)");
    }

    /** Parses failed authentications a minute per client address; 0 turns the limit off. */
    static AuthFailureLimit authFailureLimit(String name, String value) {
        if (!value.matches("\\d{1,9}")) {
            throw UsageException.of(name, "bad number \"" + value
                    + "\" (expected failures a minute, e.g. 60, or 0 to disable)");
        }
        int n = Integer.parseInt(value);
        return n == 0 ? AuthFailureLimit.none() : AuthFailureLimit.of(n, Duration.ofMinutes(1));
    }

    /**
     * Runs a Gatehouse builder step, reporting what it refuses as a mistake of what {@code name} names: a flag,
     * or a config file and key.
     */
    private static <T> T validated(String name, Supplier<T> step) {
        try {
            return step.get();
        } catch (UsageException e) {
            throw e;
        } catch (IllegalArgumentException | IllegalStateException e) {
            throw UsageException.of(name, e);
        }
    }

    /** Fails, naming {@code name}, when two of the routes match the same requests. */
    private void checkConflicts(List<Route> routes, String name) {
        if (routes.isEmpty()) {
            return;
        }
        Gateway.Builder b = Gateway.builder().settings(settings);
        routes.forEach(b::route);
        // The gateway's message names the key: "routes: Route[/a] and Route[/a] match the same requests".
        validated(name, b::build);
    }

    /** A route of the config file, with its own settings and auth, or the gateway-wide ones. */
    private Route fileRoute(RunnerConfig config, RunnerConfig.RouteEntry entry, List<String> warnings) {
        String name = config.label(entry.key());
        Route.Builder b = validated(name, () -> Route.builder(entry.path()));
        if (entry.target() instanceof RunnerConfig.Proxy proxy) {
            validated(name, () -> b.backend(Backend.of(proxy.backend())));
        } else if (entry.target() instanceof RunnerConfig.Group group) {
            b.backend(group.group());
        } else {
            RunnerConfig.WebSocketApi api = (RunnerConfig.WebSocketApi) entry.target();
            WebSocketApi.Builder messages = WebSocketApi.builder().selection(api.selection()).replies(api.replies());
            api.integrations().forEach((routeKey, uri) -> validated(config.label(entry.key() + ".integrations." + routeKey),
                    () -> messages.integration(routeKey, Integration.http(uri))));
            b.webSocketApi(validated(name, messages::build));
        }
        entry.settings().ifPresent(s -> b.settings(s.applyTo(settings.toBuilder()).build()));
        entry.auth().ifPresent(a -> b.authenticator(routeAuthenticator(config, a, warnings)));
        RunnerConfig.Limits limits = entry.limits();
        limits.maxConnections().ifPresent(b::maxConnections);
        limits.maxConnectionsPerPrincipal().ifPresent(b::maxConnectionsPerPrincipal);
        limits.maxConnectionsPerIp().ifPresent(b::maxConnectionsPerIp);
        limits.rateLimit().ifPresent(r -> b.policy(validated(config.label(entry.key() + ".rateLimit"),
                () -> rateLimit(entry.path(), r))));
        return validated(name, b::build);
    }

    /**
     * A route's {@code rateLimit} as a policy named after the route's path, so that the routes' buckets stay apart
     * in a store they share: the cluster's with a {@code cluster} block, else one in memory of its own.
     */
    private RateLimitPolicy rateLimit(String path, RunnerConfig.RateLimit r) {
        LimitKey key = switch (r.key()) {
            case IP -> LimitKey.clientAddress();
            case PRINCIPAL -> LimitKey.principal();
            case ROUTE -> LimitKey.route();
        };
        RateLimitPolicy.Builder b = RateLimitPolicy.builder(key).rate(r.permits(), r.per()).burst(r.burst())
                .name("rate:" + path);
        if (clusterLimits != null) {
            b.store(clusterLimits);
        }
        return b.build();
    }

    private static Authenticator routeAuthenticator(RunnerConfig config, RunnerConfig.Auth auth, List<String> warnings) {
        if (!(auth instanceof RunnerConfig.Credentials credentials)) {
            return Authenticator.none();
        }
        ApiKeyAuthenticator keys = null;
        if (!credentials.apiKeys().isEmpty()) {
            ApiKeyAuthenticator.Builder b = ApiKeyAuthenticator.builder();
            for (int i = 0; i < credentials.apiKeys().size(); i++) {
                String key = credentials.apiKeys().get(i).value();
                String consumer = "key-" + (i + 1);
                validated(config.label(credentials.key() + ".apiKeys[" + i + "]"), () -> b.key(key, consumer));
            }
            keys = b.build();
        }
        JwtAuthenticator jwt = credentials.jwt().map(j -> {
            String at = credentials.key() + ".jwt.";
            return jwt(Labelled.of(config.label(at + "hs256Secret"), j.hs256Secret().map(RunnerConfig.Secret::value)),
                    Labelled.of(config.label(at + "issuer"), j.issuer()),
                    Labelled.of(config.label(at + "audience"), j.audience()), warnings);
        }).orElse(null);
        return either(keys, jwt);
    }

    /** The authenticator of API keys, of a JWT, of either (for a client with one of them), or {@code null}. */
    private static Authenticator either(ApiKeyAuthenticator keys, JwtAuthenticator jwt) {
        if (keys != null && jwt != null) {
            return Authenticator.firstOf(keys, jwt);
        }
        return keys != null ? keys : jwt;
    }

    /** An HS256 JWT authenticator; the labels say where each value came from, for messages. */
    private static JwtAuthenticator jwt(Labelled secret, Labelled issuer, Labelled audience, List<String> warnings) {
        int length = secret.value().getBytes(StandardCharsets.UTF_8).length;
        if (length < MIN_HS256_SECRET) {
            warnings.add(secret.name() + ": a " + length + "-byte secret is weak for HS256 (use at least "
                    + MIN_HS256_SECRET + " bytes)");
        }
        JwtAuthenticator.Builder b = JwtAuthenticator.builder().algorithms("HS256").allowShortSecrets(true);
        validated(secret.name(), () -> b.secret(secret.value()));
        if (issuer != null) {
            validated(issuer.name(), () -> b.issuer(issuer.value()));
        }
        if (audience != null) {
            validated(audience.name(), () -> b.audience(audience.value()));
        }
        return validated(secret.name(), b::build);
    }

    /** A value and what a mistake in it names: its flag, or its config file and key. */
    private record Labelled(String name, String value) {
        /** The value, when there is one; {@code null} otherwise. */
        static Labelled of(String name, Optional<String> value) {
            return value.map(v -> new Labelled(name, v)).orElse(null);
        }

        @Override
        public String toString() {
            return name; // never the value, which may be a secret
        }
    }

    /** The mutable state of one parse. */
    private static final class Parser {
        private final Set<Flag> seen = EnumSet.noneOf(Flag.class);
        private final List<Route> routes = new ArrayList<>(); // of --route, without authenticator or policies
        private final List<String> routeFlags = new ArrayList<>(); // the values of --route, in the same order
        private final Settings.Builder settings = Settings.defaults().toBuilder();
        private final ApiKeyAuthenticator.Builder apiKeys = ApiKeyAuthenticator.builder();
        private final OriginPolicy.Builder origins = OriginPolicy.builder();
        private final List<String> warnings = new ArrayList<>();
        private boolean help;
        private RunnerConfig config; // null: no --config
        private int port = DEFAULT_PORT;
        private String host = "";
        private Duration requestTimeout = DEFAULT_REQUEST_TIMEOUT;
        private int keyCount; // gateway-wide keys accepted so far, the file's first
        private int originCount; // origins accepted so far, the file's first
        private String allowMissingOrigin; // what set allowMissingOrigin, for messages; null: the default
        private String jwtKey; // how a mistake names the file's auth.jwt ("gw.yaml: auth.jwt"); null: none
        private Labelled jwtSecret; // null: neither --jwt-hs256-secret nor auth.jwt.hs256Secret
        private Labelled jwtIssuer; // null: none
        private Labelled jwtAudience; // null: none
        private AuthFailureLimit authFailureLimit = AuthFailureLimit.defaults();
        private final ApiKeyAuthenticator.Builder managementKeys =
                ApiKeyAuthenticator.builder().credentialSources(CredentialSource.header("X-API-Key"));
        private int managementKeyCount; // management keys accepted so far, the file's first
        private Integer managementPort; // null: no --management-port nor management.port
        private String managementPortName; // what a mistake about the port names: the flag, or the file's key
        private String managementHost = DEFAULT_MANAGEMENT_HOST;
        private String managementBlock; // how a mistake names the file's management block; null: none
        private boolean metrics = true;  // whether the management port serves /metrics; the file's metrics.enabled
        private String metricsKey;       // how a mistake names the file's metrics.enabled; null: not in the file

        /** Takes the config file's values, before any flag. */
        void seed(RunnerConfig c) {
            config = c;
            c.port().ifPresent(v -> port = v);
            c.host().ifPresent(v -> host = v);
            c.settings().applyTo(settings);
            c.requestTimeout().ifPresent(v -> requestTimeout = v);
            c.authFailureLimit().ifPresent(v -> authFailureLimit = v);
            c.auth().ifPresent(auth -> {
                for (int i = 0; i < auth.apiKeys().size(); i++) {
                    String key = auth.apiKeys().get(i).value();
                    validated(c.label(auth.key() + ".apiKeys[" + i + "]"), () -> apiKeys.key(key, "key-" + (keyCount + 1)));
                    keyCount++;
                }
                auth.jwt().ifPresent(jwt -> {
                    jwtKey = c.label(auth.key() + ".jwt");
                    jwtSecret = Labelled.of(jwtKey + ".hs256Secret", jwt.hs256Secret().map(RunnerConfig.Secret::value));
                    jwtIssuer = Labelled.of(jwtKey + ".issuer", jwt.issuer());
                    jwtAudience = Labelled.of(jwtKey + ".audience", jwt.audience());
                });
            });
            c.metrics().ifPresent(m -> {
                metricsKey = c.label(m.key() + ".enabled");
                metrics = m.enabled();
            });
            c.management().ifPresent(m -> {
                managementBlock = c.label(m.key());
                managementPort = m.port();
                managementPortName = c.label(m.key() + ".port");
                m.host().ifPresent(h -> managementHost = h);
                for (int i = 0; i < m.apiKeys().size(); i++) {
                    String key = m.apiKeys().get(i).value();
                    validated(c.label(m.key() + ".apiKeys[" + i + "]"),
                            () -> managementKeys.key(key, "management-" + (managementKeyCount + 1)));
                    managementKeyCount++;
                }
            });
            c.allowMissingOrigin().ifPresent(allow -> {
                origins.allowMissing(allow);
                allowMissingOrigin = c.label("allowMissingOrigin");
            });
            for (int i = 0; i < c.allowOrigins().size(); i++) {
                String origin = c.allowOrigins().get(i);
                validated(c.label("allowOrigins[" + i + "]"), () -> origins.allow(origin));
                originCount++;
            }
        }

        void accept(Flag flag, String value) {
            switch (flag) {
                case PORT -> port = port(flag.flag, value);
                case HOST -> host = value;
                case ROUTE -> {
                    routes.add(route(value));
                    routeFlags.add(value);
                }
                case IDLE_TIMEOUT -> validated(flag.flag, () -> settings.idleTimeout(duration(flag.flag, value)));
                case PING_INTERVAL -> validated(flag.flag, () -> settings.pingInterval(duration(flag.flag, value)));
                case CONNECT_TIMEOUT -> validated(flag.flag, () -> settings.connectTimeout(connectTimeout(flag.flag, value)));
                case REQUEST_TIMEOUT -> requestTimeout = duration(flag.flag, value);
                case MAX_MESSAGE_SIZE -> validated(flag.flag, () -> settings.maxMessageSize(size(flag.flag, value)));
                case API_KEY -> {
                    validated(flag.flag, () -> apiKeys.key(value, "key-" + (keyCount + 1)));
                    keyCount++;
                }
                case ALLOW_ORIGIN -> {
                    validated(flag.flag, () -> origins.allow(value));
                    originCount++;
                }
                case ALLOW_MISSING_ORIGIN -> {
                    origins.allowMissing(bool(flag.flag, value));
                    allowMissingOrigin = flag.flag;
                }
                case JWT_SECRET -> jwtSecret = new Labelled(flag.flag, value);
                case JWT_ISSUER -> jwtIssuer = new Labelled(flag.flag, value);
                case JWT_AUDIENCE -> jwtAudience = new Labelled(flag.flag, value);
                case AUTH_FAILURE_LIMIT -> authFailureLimit = authFailureLimit(flag.flag, value);
                case MANAGEMENT_PORT -> {
                    managementPort = port(flag.flag, value);
                    managementPortName = flag.flag;
                }
                case MANAGEMENT_KEY -> {
                    validated(flag.flag, () -> managementKeys.key(value, "management-" + (managementKeyCount + 1)));
                    managementKeyCount++;
                }
                default -> throw new AssertionError(flag);
            }
        }

        /** The management API the flags and the file turn on, or {@code null}. */
        Management management() {
            if (managementPort == null) {
                if (metrics && metricsKey != null) {
                    throw UsageException.of(metricsKey, "needs the management API (its port serves /metrics)");
                }
                if (managementKeyCount > 0) {
                    throw UsageException.of(Flag.MANAGEMENT_KEY.flag, "needs " + Flag.MANAGEMENT_PORT.flag);
                }
                return null;
            }
            if (managementKeyCount == 0 && managementBlock != null) {
                throw UsageException.of(managementBlock, "no apiKeys (expected at least one key: every management "
                        + "request needs one in X-API-Key; or " + Flag.MANAGEMENT_KEY.flag + ")");
            }
            if (managementKeyCount == 0) {
                throw UsageException.of(managementPortName, "needs at least one " + Flag.MANAGEMENT_KEY.flag
                        + " (the management API is never open to all)");
            }
            if (managementPort != 0 && managementPort == port) {
                throw UsageException.of(managementPortName, "bad port \"" + managementPort
                        + "\" (expected another port than the gateway's)");
            }
            return new Management(managementPort, managementHost, managementKeys.build(), metrics);
        }

        /** The origin policy of {@code --allow-origin} and the file's {@code allowOrigins}, or {@code null}. */
        OriginPolicy origins() {
            if (originCount == 0) {
                if (allowMissingOrigin != null) {
                    throw UsageException.of(allowMissingOrigin, "needs " + Flag.ALLOW_ORIGIN.flag
                            + " (without it any origin may connect)");
                }
                return null;
            }
            return origins.build();
        }

        /** The gateway-wide authenticator of the credential flags and the file's {@code auth}, or {@code null}. */
        Authenticator authenticator() {
            if (jwtSecret == null) {
                if (jwtKey != null) {
                    throw UsageException.of(jwtKey, "no hs256Secret (expected it here or in " + Flag.JWT_SECRET.flag + ")");
                }
                for (Flag f : List.of(Flag.JWT_ISSUER, Flag.JWT_AUDIENCE)) {
                    if (seen.contains(f)) {
                        throw UsageException.of(f.flag, "needs " + Flag.JWT_SECRET.flag);
                    }
                }
            }
            ApiKeyAuthenticator keys = keyCount == 0 ? null : apiKeys.build();
            JwtAuthenticator jwt = jwtSecret == null ? null : jwt(jwtSecret, jwtIssuer, jwtAudience, warnings);
            return either(keys, jwt);
        }

        private static Route route(String value) {
            int eq = value.indexOf('=');
            if (eq <= 0 || eq == value.length() - 1 || !value.startsWith("/")) {
                throw UsageException.of(Flag.ROUTE.flag, "bad route \"" + value
                        + "\" (expected PATH=URL, e.g. /chat/{room}=ws://localhost:9000/rooms/{room})");
            }
            String path = value.substring(0, eq);
            String url = value.substring(eq + 1);
            return validated(Flag.ROUTE.flag, () -> Route.builder(path).backend(Backend.of(url)).build());
        }
    }
}
