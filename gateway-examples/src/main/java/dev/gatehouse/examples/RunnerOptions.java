package dev.gatehouse.examples;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import dev.gatehouse.Authenticator;
import dev.gatehouse.Backend;
import dev.gatehouse.Route;
import dev.gatehouse.Settings;
import dev.gatehouse.auth.ApiKeyAuthenticator;
import dev.gatehouse.auth.AuthFailureLimit;
import dev.gatehouse.auth.JwtAuthenticator;
import dev.gatehouse.policy.OriginPolicy;

/**
 * The standalone runner's command line, parsed and validated: every value is already turned into the
 * Gatehouse object it configures, so a bad value is reported by {@link #parse(List)} with the flag's name,
 * before anything starts.
 */
final class RunnerOptions {

    /** Every flag, in the order {@code --help} lists them. */
    enum Flag {
        PORT("--port", "N", "listen port (default " + DEFAULT_PORT + "; 0 picks a free port)"),
        HOST("--host", "HOST", "interface to listen on (default: all interfaces)"),
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
        AUTH_FAILURE_LIMIT("--auth-failure-limit", "N", "failed authentications a minute per address, then 429 for 1m "
                + "(default " + AuthFailureLimit.defaults().failures() + "; 0 disables)"),
        HELP("--help", "", "prints this help and exits");

        private static final Set<Flag> REPEATABLE = EnumSet.of(ROUTE, API_KEY, ALLOW_ORIGIN);

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
    private final List<Route> routes;
    private final Settings settings;
    private final Duration requestTimeout; // zero: none
    private final Authenticator authenticator; // null: no --api-key nor --jwt-hs256-secret
    private final OriginPolicy origins; // null: no --allow-origin
    private final AuthFailureLimit authFailureLimit;
    private final List<String> warnings;
    private final boolean apiKeyRequired;
    private final boolean jwtRequired;

    private RunnerOptions(Parser p) {
        this.help = p.help;
        this.port = p.port;
        this.host = p.host;
        this.routes = List.copyOf(p.routes);
        this.settings = p.settings.build();
        this.requestTimeout = p.requestTimeout;
        this.authenticator = p.authenticator();
        this.origins = p.originCount == 0 ? null : p.origins.build();
        this.authFailureLimit = p.authFailureLimit;
        this.warnings = List.copyOf(p.warnings);
        this.apiKeyRequired = p.keyCount > 0;
        this.jwtRequired = !p.jwtSecret.isEmpty();
    }

    /**
     * Parses a command line. Flags take their value as the next argument or after {@code =}
     * ({@code --port 9000}, {@code --port=9000}); {@code --help} stops parsing.
     *
     * @throws UsageException naming the flag, for an unknown flag, a missing or malformed value, or a value
     *                        that a Gatehouse builder refuses
     */
    static RunnerOptions parse(List<String> args) {
        Parser p = new Parser();
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
                throw UsageException.of(name, "missing value (expected " + flag.argument + ")");
            }
            if (flag.takesValue() && value.isEmpty()) {
                throw UsageException.of(name, "missing value (expected " + flag.argument + ")");
            }
            if (!p.seen.add(flag) && !flag.repeatable()) {
                throw UsageException.of(name, "given more than once");
            }
            p.accept(flag, value);
        }
        return new RunnerOptions(p);
    }

    /** The text of {@code --help}: usage, then one line per flag. */
    static String helpText() {
        StringBuilder sb = new StringBuilder();
        sb.append("Usage: java -jar gatehouse-standalone.jar [options]\n\n");
        sb.append("Starts a Gatehouse WebSocket gateway. Without --route it runs a demo: echo and chat backends\n");
        sb.append("behind the gateway at /echo and /chat/{room}, and a chat page at /. Route URLs may use the\n");
        sb.append("path's {params}; a path ending in /* appends the rest of the path to the URL.\n\n");
        sb.append("Options (--flag value or --flag=value):\n");
        for (Flag f : Flag.values()) {
            String left = f.flag + (f.takesValue() ? " " + f.argument : "");
            sb.append(String.format(Locale.ROOT, "  %-25s %s%n", left, f.description));
        }
        sb.append("\nDurations: a number with ms, s, m or h, or 0. Bad options exit with status 2.\n");
        sb.append("A JWT is read from Authorization: Bearer, the query parameter access_token, or the subprotocol\n");
        sb.append("pair bearer, bearer.<jwt>. With --api-key too, a client may present either credential.\n");
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

    /** The {@code --route}s, in order, without authenticator or policies; empty for the demo. */
    List<Route> routes() {
        return routes;
    }

    /** The gateway's settings: Gatehouse's defaults changed by the timeout and size flags. */
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

    /** The authenticator every route requires, when {@code --api-key} or {@code --jwt-hs256-secret} was given. */
    Optional<Authenticator> authenticator() {
        return Optional.ofNullable(authenticator);
    }

    /** Whether {@code --api-key} was given. */
    boolean apiKeyRequired() {
        return apiKeyRequired;
    }

    /** Whether {@code --jwt-hs256-secret} was given. */
    boolean jwtRequired() {
        return jwtRequired;
    }

    /** Advice about accepted but doubtful values, one line each, e.g. a short JWT secret. */
    List<String> warnings() {
        return warnings;
    }

    /** The origins every route admits, when {@code --allow-origin} was given. */
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

    /** Parses a duration flag's value: digits with ms, s, m or h, or a plain 0. */
    static Duration duration(Flag flag, String value) {
        Matcher m = DURATION.matcher(value.toLowerCase(Locale.ROOT));
        if (!m.matches() || (m.group(2) == null && Long.parseLong(m.group(1)) != 0)) {
            throw UsageException.of(flag.flag, "bad duration \"" + value + "\" " + DURATION_EXAMPLES);
        }
        long n = Long.parseLong(m.group(1));
        UsageException tooLong = UsageException.of(flag.flag, "bad duration \"" + value + "\" (expected at most "
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

    /** Parses a byte count: digits with an optional binary k, m or g suffix. */
    static long size(Flag flag, String value) {
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
        throw UsageException.of(flag.flag, "bad size \"" + value + "\" (expected bytes, e.g. 65536, 64k, 1m)");
    }

    /** Runs a Gatehouse builder step, reporting what it refuses as a mistake of the flag. */
    private static <T> T validated(Flag flag, Supplier<T> step) {
        try {
            return step.get();
        } catch (UsageException e) {
            throw e;
        } catch (IllegalArgumentException | IllegalStateException e) {
            throw UsageException.of(flag.flag, e);
        }
    }

    /** The mutable state of one parse. */
    private static final class Parser {
        private final Set<Flag> seen = EnumSet.noneOf(Flag.class);
        private final List<Route> routes = new ArrayList<>();
        private final Settings.Builder settings = Settings.defaults().toBuilder();
        private final ApiKeyAuthenticator.Builder apiKeys = ApiKeyAuthenticator.builder();
        private final OriginPolicy.Builder origins = OriginPolicy.builder();
        private final List<String> warnings = new ArrayList<>();
        private boolean help;
        private int port = DEFAULT_PORT;
        private String host = "";
        private Duration requestTimeout = DEFAULT_REQUEST_TIMEOUT;
        private int keyCount; // --api-key flags accepted so far
        private int originCount; // --allow-origin flags accepted so far
        private String jwtSecret = ""; // empty: no --jwt-hs256-secret
        private String jwtIssuer = "";
        private String jwtAudience = "";
        private AuthFailureLimit authFailureLimit = AuthFailureLimit.defaults();

        void accept(Flag flag, String value) {
            switch (flag) {
                case HELP -> help = true;
                case PORT -> port = port(value);
                case HOST -> host = value;
                case ROUTE -> routes.add(route(value));
                case IDLE_TIMEOUT -> validated(flag, () -> settings.idleTimeout(duration(flag, value)));
                case PING_INTERVAL -> validated(flag, () -> settings.pingInterval(duration(flag, value)));
                case CONNECT_TIMEOUT -> {
                    Duration d = duration(flag, value);
                    if (d.isZero()) {
                        throw UsageException.of(flag.flag, "bad duration \"" + value + "\" (expected more than 0, e.g. 5s)");
                    }
                    validated(flag, () -> settings.connectTimeout(d));
                }
                case REQUEST_TIMEOUT -> requestTimeout = duration(flag, value);
                case MAX_MESSAGE_SIZE -> validated(flag, () -> settings.maxMessageSize(size(flag, value)));
                case API_KEY -> {
                    validated(flag, () -> apiKeys.key(value, "key-" + (keyCount + 1)));
                    keyCount++;
                }
                case ALLOW_ORIGIN -> {
                    validated(flag, () -> origins.allow(value));
                    originCount++;
                }
                case JWT_SECRET -> jwtSecret = value;
                case JWT_ISSUER -> jwtIssuer = value;
                case JWT_AUDIENCE -> jwtAudience = value;
                case AUTH_FAILURE_LIMIT -> authFailureLimit = authFailureLimit(value);
                default -> throw new AssertionError(flag);
            }
        }

        /** The authenticator of the credential flags, or {@code null} when there are none. */
        Authenticator authenticator() {
            if (jwtSecret.isEmpty()) {
                for (Flag f : List.of(Flag.JWT_ISSUER, Flag.JWT_AUDIENCE)) {
                    if (seen.contains(f)) {
                        throw UsageException.of(f.flag, "needs --jwt-hs256-secret");
                    }
                }
            }
            ApiKeyAuthenticator keys = keyCount == 0 ? null : apiKeys.build();
            JwtAuthenticator jwt = jwtSecret.isEmpty() ? null : jwt();
            if (keys != null && jwt != null) {
                return Authenticator.firstOf(keys, jwt);
            }
            return keys != null ? keys : jwt;
        }

        private JwtAuthenticator jwt() {
            int length = jwtSecret.getBytes(StandardCharsets.UTF_8).length;
            if (length < MIN_HS256_SECRET) {
                warnings.add(Flag.JWT_SECRET.flag + ": a " + length + "-byte secret is weak for HS256 (use at least "
                        + MIN_HS256_SECRET + " bytes)");
            }
            JwtAuthenticator.Builder b = JwtAuthenticator.builder().algorithms("HS256").allowShortSecrets(true);
            validated(Flag.JWT_SECRET, () -> b.secret(jwtSecret));
            if (!jwtIssuer.isEmpty()) {
                validated(Flag.JWT_ISSUER, () -> b.issuer(jwtIssuer));
            }
            if (!jwtAudience.isEmpty()) {
                validated(Flag.JWT_AUDIENCE, () -> b.audience(jwtAudience));
            }
            return validated(Flag.JWT_SECRET, b::build);
        }

        private static int port(String value) {
            if (value.matches("\\d{1,5}") && Integer.parseInt(value) <= 65535) {
                return Integer.parseInt(value);
            }
            throw UsageException.of(Flag.PORT.flag, "bad port \"" + value + "\" (expected 0-65535)");
        }

        private static AuthFailureLimit authFailureLimit(String value) {
            if (!value.matches("\\d{1,9}")) {
                throw UsageException.of(Flag.AUTH_FAILURE_LIMIT.flag, "bad number \"" + value
                        + "\" (expected failures a minute, e.g. 60, or 0 to disable)");
            }
            int n = Integer.parseInt(value);
            return n == 0 ? AuthFailureLimit.none() : AuthFailureLimit.of(n, Duration.ofMinutes(1));
        }

        private static Route route(String value) {
            int eq = value.indexOf('=');
            if (eq <= 0 || eq == value.length() - 1 || !value.startsWith("/")) {
                throw UsageException.of(Flag.ROUTE.flag, "bad route \"" + value
                        + "\" (expected PATH=URL, e.g. /chat/{room}=ws://localhost:9000/rooms/{room})");
            }
            String path = value.substring(0, eq);
            String url = value.substring(eq + 1);
            return validated(Flag.ROUTE, () -> Route.builder(path).backend(Backend.of(url)).build());
        }
    }
}
