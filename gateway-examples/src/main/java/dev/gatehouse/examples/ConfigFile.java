package dev.gatehouse.examples;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonStreamContext;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLParser;
import com.fasterxml.jackson.dataformat.yaml.snakeyaml.error.Mark;
import com.fasterxml.jackson.dataformat.yaml.snakeyaml.error.MarkedYAMLException;

import dev.gatehouse.Backend;
import dev.gatehouse.CloseStatus;
import dev.gatehouse.GatewayException;
import dev.gatehouse.OverflowAction;
import dev.gatehouse.Route;
import dev.gatehouse.Settings;
import dev.gatehouse.auth.AuthFailureLimit;
import dev.gatehouse.balance.Balance;
import dev.gatehouse.balance.BackendGroup;
import dev.gatehouse.balance.HealthCheck;
import dev.gatehouse.hazelcast.HazelcastCluster;
import dev.gatehouse.policy.OriginPolicy;

/**
 * Reads the runner's {@code --config} file into a {@link RunnerConfig}, checking every key. The file is YAML,
 * or JSON when its first character (after blanks) is <code>{</code> or {@code [}; Jackson parses it into a
 * tree, with duplicate keys refused, and this class walks the tree. Durations, sizes and numbers are checked
 * by the flags' own parsers in {@link RunnerOptions}.
 *
 * <p>Every mistake is a {@link UsageException} whose message is {@code FILE: KEY.PATH: problem}, e.g.
 * {@code gw.yaml: routes[2].balance: unknown policy "fastest" (expected ...)}, or {@code FILE: LINE:COLUMN:
 * problem} for a syntax error; the runner prints it after {@code error: }. Route indexes count from 0.
 * Values of {@code apiKeys} and {@code hs256Secret} are never part of a message; such a value written
 * {@code ${NAME}} is read from the environment variable NAME, which must be set. Keys of features the engine
 * does not have yet are recognised and refused, after the rest of the file was found valid.
 */
final class ConfigFile {

    /** The largest file read, 1 MiB: a config file is a few kilobytes. */
    static final int MAX_BYTES = 1 << 20;

    private static final List<String> TOP_KEYS = List.of("port", "host", "settings", "auth", "allowOrigins",
            "allowMissingOrigin", "requestTimeout", "authFailureLimit", "routes", "management", "metrics", "cluster");
    private static final List<String> SETTINGS_KEYS = List.of("idleTimeout", "pingInterval", "connectTimeout",
            "maxMessageSize", "maxLifetime", "maxLifetimeJitter", "lifetimeStatus", "outboundOverflow");
    private static final Pattern PERCENT = Pattern.compile("(\\d{1,2}(?:\\.\\d{1,3})?)%");
    private static final List<String> AUTH_KEYS = List.of("apiKeys", "jwt");
    private static final List<String> MANAGEMENT_KEYS = List.of("port", "host", "apiKeys");
    private static final List<String> METRICS_KEYS = List.of("enabled");
    private static final List<String> CLUSTER_KEYS = List.of("name", "port", "members", "limitsFallback",
            "limitsTimeout");
    private static final Pattern MEMBER = Pattern.compile("(\\[[0-9A-Fa-f:.]+\\]|[^\\s:\\[\\]]+):(\\d{1,5})");
    private static final String MEMBER_EXPECTED = "host:port, e.g. 10.0.0.1:5701";
    private static final List<String> JWT_KEYS = List.of("hs256Secret", "issuer", "audience");
    private static final List<String> ROUTE_KEYS = List.of("path", "backend", "settings", "auth", "targets",
            "balance", "healthCheck", "attempts", "ejectAfter", "ejectFor", "slowStart", "refuseWhenNoneHealthy",
            "closeSessionsOnDown", "selection", "integrations", "replies", "maxConnections", "maxConnectionsPerPrincipal",
            "maxConnectionsPerIp", "rateLimit");
    private static final List<String> RATE_LIMIT_KEYS = List.of("permits", "per", "burst", "key");
    private static final String CONNECTIONS = "a number of connections, 1 or more";
    /** The keys of a route's load-balanced group besides its targets. */
    private static final List<String> GROUP_KEYS = List.of("balance", "healthCheck", "attempts", "ejectAfter", "ejectFor",
            "slowStart", "refuseWhenNoneHealthy", "closeSessionsOnDown");
    private static final List<String> TARGET_KEYS = List.of("url", "weight");
    private static final List<String> HEALTH_CHECK_KEYS = List.of("kind", "path", "interval", "timeout", "fall", "rise");
    /** The keys of which a route has exactly one: where its connections go. */
    private static final List<String> ROUTE_TARGETS = List.of("backend", "targets", "integrations");
    private static final List<String> RESERVED_ROUTE_KEYS = List.of("$connect", "$disconnect", "$default");
    private static final String DURATION = "a duration such as 500ms, 30s, 5m";
    private static final String TOP_LEVEL = "a mapping of keys such as port, settings and routes";
    /** Jackson's location in a message: "[Source: ...; line: 3, column: 7]". */
    private static final Pattern SOURCE =
            Pattern.compile("\\s*\\[Source: [^;\\]]*; line: (\\d+), column: (\\d+)\\]");
    private static final Pattern TOKEN = Pattern.compile("(Unrecognized token) '[^']*'");
    /** A secret read from the environment: {@code ${NAME}}. */
    private static final Pattern ENVIRONMENT_REFERENCE = Pattern.compile("\\$\\{([A-Za-z_][A-Za-z0-9_]*)\\}");

    private static final YAMLMapper YAML = YAMLMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .disable(StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION)
            .build();
    private static final JsonMapper JSON = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .disable(StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION)
            .build();

    private final String file;
    private final Function<String, String> environment; // a variable's value, or null when it is not set

    private ConfigFile(String file, Function<String, String> environment) {
        this.file = file;
        this.environment = environment;
    }

    /**
     * Reads and checks a config file, with the process's environment variables for the secrets written
     * {@code ${NAME}}.
     *
     * @param file the file's name as given, which starts every message
     * @throws UsageException for a file that cannot be read, a syntax error, an unknown key, a wrong type, a
     *                        bad value, or a secret whose environment variable is not set
     */
    static RunnerConfig read(String file) {
        return read(file, System::getenv);
    }

    /** {@link #read(String)}, with these environment variables: a name's value, or null when it is not set. */
    static RunnerConfig read(String file, Function<String, String> environment) {
        ConfigFile reader = new ConfigFile(file, environment);
        RunnerConfig config = reader.config(reader.tree(reader.text()));
        return config;
    }

    // ---- the file and its syntax

    private String text() {
        Path path;
        try {
            path = Path.of(file);
        } catch (InvalidPathException e) {
            throw UsageException.of(file, "not a file name");
        }
        if (Files.isDirectory(path)) {
            throw UsageException.of(file, "a directory (expected a YAML or JSON file)");
        }
        byte[] bytes;
        try (InputStream in = Files.newInputStream(path)) {
            bytes = in.readNBytes(MAX_BYTES + 1);
        } catch (NoSuchFileException e) {
            throw UsageException.of(file, "no such file");
        } catch (AccessDeniedException e) {
            throw UsageException.of(file, "cannot read it (permission denied)");
        } catch (IOException e) {
            throw UsageException.of(file, "cannot read it (" + e.getMessage() + ")");
        }
        if (bytes.length > MAX_BYTES) {
            throw UsageException.of(file, "larger than " + RunnerOptions.text((long) MAX_BYTES) + " (expected a config file)");
        }
        try {
            String text = StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(bytes)).toString();
            return text.startsWith("\uFEFF") ? text.substring(1) : text;
        } catch (CharacterCodingException e) {
            throw UsageException.of(file, "not UTF-8 text");
        }
    }

    /** The file's one document as a tree: JSON if it looks like JSON, else YAML. */
    private JsonNode tree(String text) {
        String start = text.stripLeading();
        ObjectMapper mapper = start.startsWith("{") || start.startsWith("[") ? JSON : YAML;
        try {
            checkTokens(mapper, text);
            return mapper.readTree(text);
        } catch (JsonProcessingException e) {
            throw syntaxError(e);
        }
    }

    /**
     * Reads every token once, for what the tree would hide: YAML aliases (Jackson reads {@code *name} as the
     * text "name") and a second document.
     */
    private void checkTokens(ObjectMapper mapper, String text) throws JsonProcessingException {
        try (JsonParser p = mapper.createParser(text)) {
            int depth = 0;
            boolean complete = false;
            for (JsonToken t = p.nextToken(); t != null; t = p.nextToken()) {
                if (complete) {
                    throw UsageException.of(file + ": " + where(p.currentTokenLocation()),
                            "a second document (expected one)");
                }
                if (p instanceof YAMLParser yaml && yaml.isCurrentAlias()) {
                    throw error(path(p.getParsingContext()), "an alias (expected a value; aliases are not supported)");
                }
                if (t.isStructStart()) {
                    depth++;
                } else if (t.isStructEnd()) {
                    depth--;
                }
                complete = depth == 0 && t != JsonToken.FIELD_NAME;
            }
        } catch (JsonProcessingException e) {
            throw e;
        } catch (IOException e) {
            throw UsageException.of(file, "cannot read it (" + e.getMessage() + ")");
        }
    }

    // Jackson 2 reports a YAML syntax error as its MarkedYAMLException, deprecated for Jackson 3: the one way
    // to the problem and its line without the source snippet (which may hold a secret), short of compiling
    // against SnakeYAML itself.
    @SuppressWarnings("deprecation")
    private UsageException syntaxError(JsonProcessingException e) {
        if (e instanceof MarkedYAMLException yaml) {
            Mark mark = yaml.getProblemMark();
            String at = mark == null ? where(e.getLocation()) : (mark.getLine() + 1) + ":" + (mark.getColumn() + 1);
            String problem = yaml.getProblem() == null ? "not valid YAML" : yaml.getProblem();
            Mark contextMark = yaml.getContextMark();
            if (yaml.getContext() != null && contextMark != null) {
                problem += " (" + yaml.getContext() + " at " + (contextMark.getLine() + 1) + ":"
                        + (contextMark.getColumn() + 1) + ")";
            }
            return UsageException.of(file + ": " + at, problem);
        }
        String message = e.getOriginalMessage() == null ? "not valid" : e.getOriginalMessage();
        if (message.startsWith("Duplicate field") && e.getProcessor() instanceof JsonParser p) {
            return error(path(p.getParsingContext()), "duplicate key");
        }
        if (message.startsWith("Expected a field name")) {
            // a YAML key that is a list or a mapping; Jackson names SnakeYAML's event
            message = "a key that is a list or a mapping (expected a name)";
        }
        // Jackson names an unrecognized token, which may be a secret written without quotes.
        message = TOKEN.matcher(message).replaceAll("$1");
        Matcher source = SOURCE.matcher(message);
        StringBuilder sb = new StringBuilder();
        while (source.find()) {
            source.appendReplacement(sb, " " + source.group(1) + ":" + source.group(2));
        }
        source.appendTail(sb);
        return UsageException.of(file + ": " + where(e.getLocation()), sb.toString());
    }

    private static String where(JsonLocation location) {
        return location == null ? "?" : location.getLineNr() + ":" + location.getColumnNr();
    }

    /** The key path of a parser's position: {@code routes[2].backend}. */
    private static String path(JsonStreamContext context) {
        Deque<String> parts = new ArrayDeque<>();
        for (JsonStreamContext c = context; c != null && !c.inRoot(); c = c.getParent()) {
            if (c.inArray() && c.getCurrentIndex() >= 0) {
                parts.push("[" + c.getCurrentIndex() + "]");
            } else if (c.inObject() && c.getCurrentName() != null) {
                parts.push("." + c.getCurrentName());
            }
        }
        String path = String.join("", parts);
        return path.startsWith(".") ? path.substring(1) : path;
    }

    // ---- the keys

    private RunnerConfig config(JsonNode root) {
        if (root == null || root.isMissingNode()) {
            throw UsageException.of(file, "empty (expected " + TOP_LEVEL + ")");
        }
        if (!root.isObject()) {
            throw UsageException.of(file, "the top level is " + kind(root) + " (expected " + TOP_LEVEL + ")");
        }
        OptionalInt port = OptionalInt.empty();
        Optional<String> host = Optional.empty();
        RunnerConfig.SettingsValues settings = RunnerConfig.SettingsValues.NONE;
        Optional<RunnerConfig.Credentials> auth = Optional.empty();
        List<String> origins = List.of();
        Optional<Boolean> allowMissingOrigin = Optional.empty();
        Optional<Duration> requestTimeout = Optional.empty();
        Optional<AuthFailureLimit> authFailureLimit = Optional.empty();
        List<RunnerConfig.RouteEntry> routes = List.of();
        Optional<RunnerConfig.Management> management = Optional.empty();
        Optional<RunnerConfig.Metrics> metrics = Optional.empty();
        Optional<RunnerConfig.Cluster> cluster = Optional.empty();
        for (Map.Entry<String, JsonNode> e : root.properties()) {
            String key = e.getKey();
            JsonNode value = e.getValue();
            switch (key) {
                case "port" -> port = OptionalInt.of(RunnerOptions.port(label(key), scalar(key, value, "a port 0-65535")));
                case "host" -> host = Optional.of(string(key, value, "a host name or address"));
                case "settings" -> settings = settings(key, value);
                case "auth" -> auth = Optional.of(credentials(key, value, true));
                case "allowOrigins" -> origins = origins(key, value);
                case "allowMissingOrigin" -> allowMissingOrigin = Optional.of(bool(key, value));
                case "requestTimeout" -> requestTimeout =
                        Optional.of(RunnerOptions.duration(label(key), scalar(key, value, DURATION)));
                case "authFailureLimit" -> authFailureLimit = Optional.of(
                        RunnerOptions.authFailureLimit(label(key), scalar(key, value, "failures a minute, e.g. 60")));
                case "routes" -> routes = routes(key, value);
                case "management" -> management = Optional.of(management(key, value));
                case "metrics" -> metrics = Optional.of(metrics(key, value));
                case "cluster" -> cluster = Optional.of(cluster(key, value));
                default -> throw unknownKey("", key, TOP_KEYS);
            }
        }
        if (allowMissingOrigin.isPresent() && origins.isEmpty()) {
            throw error("allowMissingOrigin", "needs allowOrigins (without it any origin may connect)");
        }
        return new RunnerConfig(file, port, host, settings, auth, origins, allowMissingOrigin, requestTimeout,
                authFailureLimit, routes, management, metrics, cluster);
    }

    private RunnerConfig.Cluster cluster(String path, JsonNode node) {
        String name = RunnerConfig.Cluster.DEFAULT_NAME;
        int port = RunnerConfig.Cluster.DEFAULT_PORT;
        List<String> members = List.of();
        HazelcastCluster.Fallback fallback = HazelcastCluster.Fallback.LOCAL;
        Duration timeout = HazelcastCluster.DEFAULT_LIMITS_TIMEOUT;
        for (Map.Entry<String, JsonNode> e : mapping(path, node, "a mapping of " + String.join(", ", CLUSTER_KEYS))) {
            String key = child(path, e.getKey());
            JsonNode value = e.getValue();
            switch (e.getKey()) {
                case "name" -> name = string(key, value, "a cluster name, e.g. gatehouse");
                case "port" -> port = memberPort(key, scalar(key, value, "a port 1-65535"));
                case "members" -> {
                    List<String> list = new ArrayList<>();
                    List<JsonNode> items = list(key, value, "a list of " + MEMBER_EXPECTED);
                    for (int i = 0; i < items.size(); i++) {
                        String item = index(key, i);
                        String member = scalar(item, items.get(i), MEMBER_EXPECTED);
                        Matcher m = MEMBER.matcher(member);
                        if (!m.matches() || memberPortOf(m.group(2)) == 0) {
                            throw error(item, "bad member \"" + member + "\" (expected " + MEMBER_EXPECTED + ")");
                        }
                        list.add(member);
                    }
                    members = list;
                }
                case "limitsFallback" -> fallback = fallback(key, scalar(key, value, "local, open or closed"));
                case "limitsTimeout" -> timeout = positive(key, value);
                default -> throw unknownKey(path, e.getKey(), CLUSTER_KEYS);
            }
        }
        return new RunnerConfig.Cluster(path, name, port, members, fallback, timeout);
    }

    /** {@code limitsFallback}: {@code local}, {@code open} or {@code closed}. */
    private HazelcastCluster.Fallback fallback(String path, String value) {
        return switch (value) {
            case "local" -> HazelcastCluster.Fallback.LOCAL;
            case "open" -> HazelcastCluster.Fallback.OPEN;
            case "closed" -> HazelcastCluster.Fallback.CLOSED;
            default -> throw error(path, "bad fallback \"" + value + "\" (expected local, open or closed)");
        };
    }

    /** A route's {@code rateLimit}: {@code permits} per {@code per}, with an optional {@code burst} and {@code key}. */
    private RunnerConfig.RateLimit rateLimit(String path, JsonNode node) {
        Integer permits = null;
        Duration per = Duration.ofSeconds(1);
        Integer burst = null;
        RunnerConfig.RateLimitKey limitKey = RunnerConfig.RateLimitKey.IP;
        for (Map.Entry<String, JsonNode> e : mapping(path, node, "a mapping of " + String.join(", ", RATE_LIMIT_KEYS))) {
            String key = child(path, e.getKey());
            JsonNode value = e.getValue();
            switch (e.getKey()) {
                case "permits" -> permits = number(key, value, 1, 999_999_999, "handshakes per period, 1 or more");
                case "per" -> per = positive(key, value);
                case "burst" -> burst = number(key, value, 1, 999_999_999, "the most handshakes at once, 1 or more");
                case "key" -> {
                    String k = scalar(key, value, "ip, principal or route");
                    limitKey = switch (k) {
                        case "ip" -> RunnerConfig.RateLimitKey.IP;
                        case "principal" -> RunnerConfig.RateLimitKey.PRINCIPAL;
                        case "route" -> RunnerConfig.RateLimitKey.ROUTE;
                        default -> throw error(key, "bad key \"" + k + "\" (expected ip, principal or route)");
                    };
                }
                default -> throw unknownKey(path, e.getKey(), RATE_LIMIT_KEYS);
            }
        }
        if (permits == null) {
            throw error(path, "no permits (expected permits, e.g. {permits: 10, per: 1s})");
        }
        return new RunnerConfig.RateLimit(permits, per, burst == null ? permits : burst, limitKey);
    }

    /** A Hazelcast member's port: 1 to 65535, for a member needs one it can be reached on. */
    private int memberPort(String path, String value) {
        int port = memberPortOf(value);
        if (port == 0) {
            throw error(path, "bad port \"" + value + "\" (expected 1-65535)");
        }
        return port;
    }

    /** The port a string gives, or 0 if it is not one of 1 to 65535. */
    private static int memberPortOf(String value) {
        if (value.matches("\\d{1,5}") && Integer.parseInt(value) >= 1 && Integer.parseInt(value) <= 65535) {
            return Integer.parseInt(value);
        }
        return 0;
    }

    private RunnerConfig.Metrics metrics(String path, JsonNode node) {
        boolean enabled = true;
        for (Map.Entry<String, JsonNode> e : mapping(path, node, "a mapping with enabled")) {
            String key = child(path, e.getKey());
            switch (e.getKey()) {
                case "enabled" -> enabled = bool(key, e.getValue());
                default -> throw unknownKey(path, e.getKey(), METRICS_KEYS);
            }
        }
        return new RunnerConfig.Metrics(path, enabled);
    }

    private RunnerConfig.Management management(String path, JsonNode node) {
        Integer port = null;
        Optional<String> host = Optional.empty();
        List<RunnerConfig.Secret> keys = List.of(); // none: --management-key must give them
        for (Map.Entry<String, JsonNode> e : mapping(path, node, "a mapping of port, host and apiKeys")) {
            String key = child(path, e.getKey());
            JsonNode value = e.getValue();
            switch (e.getKey()) {
                case "port" -> port = RunnerOptions.port(label(key), scalar(key, value, "a port 0-65535"));
                case "host" -> host = Optional.of(string(key, value, "a host name or address"));
                case "apiKeys" -> keys = apiKeys(key, value);
                default -> throw unknownKey(path, e.getKey(), MANAGEMENT_KEYS);
            }
        }
        if (port == null) {
            throw error(path, "no port (expected the management API's own port, e.g. 9090)");
        }
        return new RunnerConfig.Management(path, port, host, keys);
    }

    private RunnerConfig.SettingsValues settings(String path, JsonNode node) {
        Optional<Duration> idleTimeout = Optional.empty();
        Optional<Duration> pingInterval = Optional.empty();
        Optional<Duration> connectTimeout = Optional.empty();
        OptionalLong maxMessageSize = OptionalLong.empty();
        Optional<Duration> maxLifetime = Optional.empty();
        OptionalDouble maxLifetimeJitter = OptionalDouble.empty();
        Optional<CloseStatus> lifetimeStatus = Optional.empty();
        Optional<OverflowAction> outboundOverflow = Optional.empty();
        for (Map.Entry<String, JsonNode> e : mapping(path, node, "a mapping of " + String.join(", ", SETTINGS_KEYS))) {
            String key = child(path, e.getKey());
            JsonNode value = e.getValue();
            switch (e.getKey()) {
                case "idleTimeout" -> idleTimeout =
                        Optional.of(RunnerOptions.duration(label(key), scalar(key, value, DURATION)));
                case "pingInterval" -> pingInterval =
                        Optional.of(RunnerOptions.duration(label(key), scalar(key, value, DURATION)));
                case "connectTimeout" -> connectTimeout =
                        Optional.of(RunnerOptions.connectTimeout(label(key), scalar(key, value, DURATION)));
                case "maxMessageSize" -> maxMessageSize = OptionalLong.of(
                        RunnerOptions.size(label(key), scalar(key, value, "a size such as 65536, 64k, 1m")));
                case "maxLifetime" -> maxLifetime =
                        Optional.of(RunnerOptions.duration(label(key), scalar(key, value, DURATION)));
                case "maxLifetimeJitter" -> maxLifetimeJitter =
                        OptionalDouble.of(jitter(key, scalar(key, value, "a percentage such as 10%")));
                case "lifetimeStatus" -> lifetimeStatus =
                        Optional.of(closeStatus(key, scalar(key, value, "a close code such as 1001 or 1012")));
                case "outboundOverflow" -> outboundOverflow =
                        Optional.of(overflow(key, scalar(key, value, "refuse or close")));
                default -> throw unknownKey(path, e.getKey(), SETTINGS_KEYS);
            }
        }
        return new RunnerConfig.SettingsValues(idleTimeout, pingInterval, connectTimeout, maxMessageSize, maxLifetime,
                maxLifetimeJitter, lifetimeStatus, outboundOverflow);
    }

    /** {@code maxLifetimeJitter}: a percentage from 0% to 50%, or the same as a fraction from 0 to 0.5. */
    private double jitter(String path, String value) {
        Matcher m = PERCENT.matcher(value);
        double fraction;
        try {
            fraction = m.matches() ? Double.parseDouble(m.group(1)) / 100 : Double.parseDouble(value);
        } catch (NumberFormatException e) {
            fraction = Double.NaN;
        }
        if (!(fraction >= 0 && fraction <= 0.5)) {
            throw error(path, "bad jitter \"" + value + "\" (expected 0% to 50%, e.g. 10%)");
        }
        return fraction;
    }

    /** {@code lifetimeStatus}: a close code the gateway may send; the reason stays "max lifetime". */
    private CloseStatus closeStatus(String path, String value) {
        int code;
        try {
            code = Integer.parseInt(value);
        } catch (NumberFormatException e) {
            code = 0;
        }
        if (code < 1000 || code > 4999 || !CloseStatus.of(code).isTransmittable()) {
            throw error(path, "bad close code \"" + value + "\" (expected one that may be sent, e.g. 1001 or 1012)");
        }
        return Settings.defaults().lifetimeStatus().code() == code ? Settings.defaults().lifetimeStatus()
                : CloseStatus.of(code, Settings.defaults().lifetimeStatus().reason());
    }

    /** {@code outboundOverflow}: {@code refuse} or {@code close}. */
    private OverflowAction overflow(String path, String value) {
        return switch (value) {
            case "refuse" -> OverflowAction.REFUSE;
            case "close" -> OverflowAction.CLOSE;
            default -> throw error(path, "bad action \"" + value + "\" (expected refuse or close)");
        };
    }

    /** A route's {@code auth}: {@code none} or credentials. */
    private RunnerConfig.Auth auth(String path, JsonNode node) {
        if (node.isTextual()) {
            if (node.textValue().equals("none")) {
                return new RunnerConfig.Anonymous();
            }
            throw error(path, "a string other than none (expected none, or a mapping with apiKeys, jwt or both)");
        }
        return credentials(path, node, false);
    }

    /**
     * An {@code auth} mapping. The gateway-wide one may leave the JWT secret to {@code --jwt-hs256-secret},
     * which {@link RunnerOptions} checks.
     */
    private RunnerConfig.Credentials credentials(String path, JsonNode node, boolean gatewayWide) {
        List<RunnerConfig.Secret> keys = List.of();
        Optional<RunnerConfig.Jwt> jwt = Optional.empty();
        String expected = gatewayWide ? "a mapping with apiKeys, jwt or both"
                : "none, or a mapping with apiKeys, jwt or both";
        Iterable<Map.Entry<String, JsonNode>> entries = mapping(path, node, expected);
        for (Map.Entry<String, JsonNode> e : entries) {
            String key = child(path, e.getKey());
            switch (e.getKey()) {
                case "apiKeys" -> keys = apiKeys(key, e.getValue());
                case "jwt" -> jwt = Optional.of(jwt(key, e.getValue(), gatewayWide));
                default -> throw unknownKey(path, e.getKey(), AUTH_KEYS);
            }
        }
        if (keys.isEmpty() && jwt.isEmpty()) {
            throw error(path, "empty (expected apiKeys, jwt or both)");
        }
        return new RunnerConfig.Credentials(path, keys, jwt);
    }

    private List<RunnerConfig.Secret> apiKeys(String path, JsonNode node) {
        List<JsonNode> items = list(path, node, "a list of API keys");
        if (items.isEmpty()) {
            throw error(path, "empty (expected at least one key)");
        }
        List<RunnerConfig.Secret> keys = new ArrayList<>();
        Map<String, Integer> seen = new HashMap<>();
        for (int i = 0; i < items.size(); i++) {
            String key = index(path, i);
            String value = secret(key, items.get(i), "an API key");
            Integer first = seen.putIfAbsent(value, i);
            if (first != null) {
                throw error(key, "the same key as " + index(path, first) + " (expected each key once)");
            }
            keys.add(new RunnerConfig.Secret(value));
        }
        return keys;
    }

    private RunnerConfig.Jwt jwt(String path, JsonNode node, boolean gatewayWide) {
        Optional<RunnerConfig.Secret> secret = Optional.empty();
        Optional<String> issuer = Optional.empty();
        Optional<String> audience = Optional.empty();
        for (Map.Entry<String, JsonNode> e : mapping(path, node, "a mapping of hs256Secret, issuer and audience")) {
            String key = child(path, e.getKey());
            switch (e.getKey()) {
                case "hs256Secret" -> secret = Optional.of(new RunnerConfig.Secret(secret(key, e.getValue(), "a secret")));
                case "issuer" -> issuer = Optional.of(string(key, e.getValue(), "the required iss"));
                case "audience" -> audience = Optional.of(string(key, e.getValue(), "the required aud"));
                default -> throw unknownKey(path, e.getKey(), JWT_KEYS);
            }
        }
        if (secret.isEmpty() && !gatewayWide) {
            throw error(path, "no hs256Secret (expected hs256Secret, with optional issuer and audience)");
        }
        return new RunnerConfig.Jwt(secret, issuer, audience);
    }

    private List<String> origins(String path, JsonNode node) {
        List<JsonNode> items = list(path, node, "a list of origins such as https://app.example.com");
        if (items.isEmpty()) {
            throw error(path, "empty (expected at least one origin; without allowOrigins any origin may connect)");
        }
        List<String> origins = new ArrayList<>();
        for (int i = 0; i < items.size(); i++) {
            String key = index(path, i);
            String origin = string(key, items.get(i), "an origin such as https://app.example.com");
            checked(key, () -> OriginPolicy.builder().allow(origin));
            origins.add(origin);
        }
        return origins;
    }

    private List<RunnerConfig.RouteEntry> routes(String path, JsonNode node) {
        List<JsonNode> items = list(path, node, "a list of routes");
        List<RunnerConfig.RouteEntry> routes = new ArrayList<>();
        for (int i = 0; i < items.size(); i++) {
            routes.add(route(index(path, i), items.get(i)));
        }
        return routes;
    }

    private RunnerConfig.RouteEntry route(String path, JsonNode node) {
        String routePath = null;
        String backend = null;
        Optional<RunnerConfig.SettingsValues> settings = Optional.empty();
        Optional<RunnerConfig.Auth> auth = Optional.empty();
        String selection = null;
        Map<String, URI> integrations = null;
        Boolean replies = null;
        BackendGroup.Builder group = BackendGroup.builder();
        HealthCheck check = null;
        OptionalInt maxConnections = OptionalInt.empty();
        OptionalInt maxPerPrincipal = OptionalInt.empty();
        OptionalInt maxPerIp = OptionalInt.empty();
        Optional<RunnerConfig.RateLimit> rateLimit = Optional.empty();
        Map<String, Boolean> present = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : mapping(path, node, "a mapping with path and backend")) {
            String key = child(path, e.getKey());
            JsonNode value = e.getValue();
            present.put(e.getKey(), true);
            switch (e.getKey()) {
                case "path" -> {
                    String p = string(key, value, "a path such as /chat/{room}");
                    checked(key, () -> Route.builder(p));
                    routePath = p;
                }
                case "backend" -> {
                    String url = string(key, value, "a ws:// or wss:// URL");
                    checked(key, () -> Backend.of(url));
                    backend = url;
                }
                case "settings" -> settings = Optional.of(settings(key, value));
                case "auth" -> auth = Optional.of(auth(key, value));
                case "targets" -> targets(key, value, group);
                case "balance" -> group.balance(balance(key, value));
                case "healthCheck" -> {
                    check = healthCheck(key, value);
                    group.healthCheck(check);
                }
                case "attempts" -> group.attempts(count(key, value, "the most targets a handshake tries"));
                case "ejectAfter" -> group.ejectAfter(count(key, value, "failed dials in a row"));
                case "ejectFor" -> group.ejectFor(positive(key, value));
                case "slowStart" -> group.slowStart(RunnerOptions.duration(label(key), scalar(key, value, DURATION)));
                case "refuseWhenNoneHealthy" -> {
                    if (bool(key, value)) {
                        group.refuseWhenNoneHealthy();
                    }
                }
                case "closeSessionsOnDown" ->
                        group.closeSessionsOnDown(RunnerOptions.duration(label(key), scalar(key, value, DURATION)));
                case "selection" -> selection = string(key, value, "a route selection expression such as "
                        + RunnerConfig.WebSocketApi.DEFAULT_SELECTION);
                case "integrations" -> integrations = integrations(key, value);
                case "replies" -> replies = bool(key, value);
                case "maxConnections" -> maxConnections = OptionalInt.of(number(key, value, 1, 999_999_999, CONNECTIONS));
                case "maxConnectionsPerPrincipal" ->
                        maxPerPrincipal = OptionalInt.of(number(key, value, 1, 999_999_999, CONNECTIONS));
                case "maxConnectionsPerIp" -> maxPerIp = OptionalInt.of(number(key, value, 1, 999_999_999, CONNECTIONS));
                case "rateLimit" -> rateLimit = Optional.of(rateLimit(key, value));
                default -> throw unknownKey(path, e.getKey(), ROUTE_KEYS);
            }
        }
        if (routePath == null) {
            throw error(path, "no path (expected a path such as /chat/{room})");
        }
        List<String> targets = ROUTE_TARGETS.stream().filter(present::containsKey).toList();
        if (targets.isEmpty()) {
            throw error(path, "no backend (expected backend, or integrations for a WebSocket API route)");
        }
        if (targets.size() > 1) {
            throw error(path, "both " + targets.get(0) + " and " + targets.get(1) + " (expected one of them)");
        }
        for (String needsTargets : GROUP_KEYS) {
            if (present.containsKey(needsTargets) && !present.containsKey("targets")) {
                throw error(child(path, needsTargets), "needs targets");
            }
        }
        if (present.containsKey("closeSessionsOnDown") && check == null) {
            throw error(child(path, "closeSessionsOnDown"), "needs healthCheck (only its probes take a target down)");
        }
        for (String needsIntegrations : List.of("selection", "replies")) {
            if (present.containsKey(needsIntegrations) && integrations == null) {
                throw error(child(path, needsIntegrations), "needs integrations (for a WebSocket API route)");
            }
        }
        RunnerConfig.Target target;
        if (backend != null) {
            String p = routePath;
            String url = backend;
            checked(child(path, "backend"), () -> Route.builder(p).backend(Backend.of(url)).build());
            target = new RunnerConfig.Proxy(backend);
        } else if (integrations != null) {
            target = new RunnerConfig.WebSocketApi(
                    selection == null ? RunnerConfig.WebSocketApi.DEFAULT_SELECTION : selection, integrations,
                    replies == null || replies);
        } else {
            String p = routePath;
            // The group's last check, a check without a path for targets with path parameters, is the healthCheck's.
            BackendGroup built = built(check == null ? path : child(path, "healthCheck"), group::build);
            checked(child(path, "targets"), () -> Route.builder(p).backend(built).build());
            target = new RunnerConfig.Group(built);
        }
        return new RunnerConfig.RouteEntry(path, routePath, target, settings, auth,
                new RunnerConfig.Limits(maxConnections, maxPerPrincipal, maxPerIp, rateLimit));
    }

    /** A route's {@code targets}: URLs, or mappings of {@code url} and {@code weight}. */
    private void targets(String path, JsonNode node, BackendGroup.Builder group) {
        List<JsonNode> items = list(path, node, "a list of ws:// or wss:// URLs, or of {url, weight}");
        if (items.isEmpty()) {
            throw error(path, "empty (expected at least one target)");
        }
        for (int i = 0; i < items.size(); i++) {
            String key = index(path, i);
            JsonNode item = items.get(i);
            String url = null;
            int weight = 1;
            if (item.isObject()) {
                for (Map.Entry<String, JsonNode> e : item.properties()) {
                    String field = child(key, e.getKey());
                    switch (e.getKey()) {
                        case "url" -> url = string(field, e.getValue(), "a ws:// or wss:// URL");
                        case "weight" -> weight = number(field, e.getValue(), 1, 1000, "a weight from 1 to 1000");
                        default -> throw unknownKey(key, e.getKey(), TARGET_KEYS);
                    }
                }
                if (url == null) {
                    throw error(key, "no url (expected a ws:// or wss:// URL, with an optional weight)");
                }
            } else {
                url = string(key, item, "a ws:// or wss:// URL, or {url, weight}");
            }
            String u = url;
            int w = weight;
            checked(item.isObject() ? child(key, "url") : key, () -> Backend.of(u));
            group.target(u, w);
        }
    }

    /** A route's {@code balance}: a policy as {@link Balance#parse(String)} reads it. */
    private Balance balance(String path, JsonNode node) {
        String policy = string(path, node, "a balancing policy");
        try {
            return Balance.parse(policy);
        } catch (IllegalArgumentException e) {
            throw error(path, "unknown policy \"" + policy + "\" (expected round-robin, least-connections, "
                    + "hash:ip, hash:principal, hash:header:NAME or hash:query:NAME)");
        }
    }

    /** A route's {@code healthCheck}: its kind and path, timing and thresholds; an empty mapping for the defaults. */
    private HealthCheck healthCheck(String path, JsonNode node) {
        HealthCheck.Builder b = HealthCheck.builder();
        HealthCheck.Kind kind = HealthCheck.Kind.WEBSOCKET;
        boolean hasPath = false;
        for (Map.Entry<String, JsonNode> e : mapping(path, node, "a mapping of " + String.join(", ", HEALTH_CHECK_KEYS))) {
            String key = child(path, e.getKey());
            JsonNode value = e.getValue();
            switch (e.getKey()) {
                case "kind" -> {
                    String k = string(key, value, "websocket or http");
                    kind = switch (k) {
                        case "websocket" -> HealthCheck.Kind.WEBSOCKET;
                        case "http" -> HealthCheck.Kind.HTTP;
                        default -> throw error(key, "unknown kind \"" + k + "\" (expected websocket or http)");
                    };
                    b.kind(kind);
                }
                case "path" -> {
                    String p = string(key, value, "a path such as /health");
                    checked(key, () -> b.path(p));
                    hasPath = true;
                }
                case "interval" -> b.interval(positive(key, value));
                case "timeout" -> b.timeout(positive(key, value));
                case "fall" -> b.fall(count(key, value, "failed probes in a row"));
                case "rise" -> b.rise(count(key, value, "successful probes in a row"));
                default -> throw unknownKey(path, e.getKey(), HEALTH_CHECK_KEYS);
            }
        }
        if (kind == HealthCheck.Kind.HTTP && !hasPath) {
            throw error(path, "kind http needs a path (expected e.g. path: /health)");
        }
        return built(path, b::build);
    }

    /** A count of 1 or more. */
    private int count(String path, JsonNode node, String what) {
        return number(path, node, 1, 1_000_000, what + ", 1 or more");
    }

    /** A whole number from {@code min} to {@code max}, written as a number or a string. */
    private int number(String path, JsonNode node, int min, int max, String expected) {
        String text = scalar(path, node, expected);
        if (text.matches("\\d{1,9}")) {
            int n = Integer.parseInt(text);
            if (n >= min && n <= max) {
                return n;
            }
        }
        throw error(path, "bad number \"" + text + "\" (expected " + expected + ")");
    }

    /** A duration of more than 0. */
    private Duration positive(String path, JsonNode node) {
        String text = scalar(path, node, DURATION);
        Duration d = RunnerOptions.duration(label(path), text);
        if (d.isZero()) {
            throw error(path, "bad duration \"" + text + "\" (expected more than 0, e.g. 5s)");
        }
        return d;
    }

    private Map<String, URI> integrations(String path, JsonNode node) {
        Map<String, URI> integrations = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : mapping(path, node, "a mapping of route keys to http:// or https:// URLs")) {
            String routeKey = e.getKey();
            String key = child(path, routeKey);
            if (routeKey.isEmpty()) {
                throw error(path, "an empty route key (expected $connect, $disconnect, $default or a name)");
            }
            if (routeKey.startsWith("$") && !RESERVED_ROUTE_KEYS.contains(routeKey)) {
                throw error(key, "unknown route key (expected $connect, $disconnect, $default or a name not "
                        + "starting with $)");
            }
            String url = string(key, e.getValue(), "an http:// or https:// URL");
            integrations.put(routeKey, httpUrl(key, url));
        }
        if (integrations.isEmpty()) {
            throw error(path, "empty (expected at least one route key, e.g. $default)");
        }
        return integrations;
    }

    private URI httpUrl(String path, String url) {
        try {
            URI uri = new URI(url);
            String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
            if ((scheme.equals("http") || scheme.equals("https")) && uri.getHost() != null && uri.getFragment() == null) {
                return uri;
            }
        } catch (URISyntaxException e) {
            // reported below
        }
        throw error(path, "\"" + url + "\" (expected an http:// or https:// URL)");
    }

    // ---- values

    private Iterable<Map.Entry<String, JsonNode>> mapping(String path, JsonNode node, String expected) {
        if (!node.isObject()) {
            throw error(path, kind(node) + " (expected " + expected + ")");
        }
        return node.properties();
    }

    private List<JsonNode> list(String path, JsonNode node, String expected) {
        if (!node.isArray()) {
            throw error(path, kind(node) + " (expected " + expected + ")");
        }
        List<JsonNode> items = new ArrayList<>();
        node.elements().forEachRemaining(items::add);
        return items;
    }

    /** A non-empty string; its value is never part of a message, for it may be a secret. */
    private String string(String path, JsonNode node, String expected) {
        if (!node.isTextual()) {
            throw error(path, kind(node) + " (expected " + expected + ")");
        }
        if (node.textValue().isEmpty()) {
            throw error(path, "empty (expected " + expected + ")");
        }
        return node.textValue();
    }

    /**
     * A secret: a non-empty string, or {@code ${NAME}} for the value of the environment variable NAME, which
     * must be set and not blank. Its value is never part of a message.
     */
    private String secret(String path, JsonNode node, String expected) {
        String value = string(path, node, expected);
        Matcher reference = ENVIRONMENT_REFERENCE.matcher(value);
        if (!reference.matches()) {
            return value;
        }
        String variable = reference.group(1);
        String resolved = environment.apply(variable);
        if (resolved == null) {
            throw error(path, value + ": the environment variable " + variable + " is not set (expected " + expected + ")");
        }
        if (resolved.isBlank()) {
            throw error(path, value + ": the environment variable " + variable + " is "
                    + (resolved.isEmpty() ? "empty" : "blank") + " (expected " + expected + ")");
        }
        return resolved;
    }

    /** A value the flags' parsers read: a string or a number, as text. */
    private String scalar(String path, JsonNode node, String expected) {
        if (node.isTextual() || node.isNumber()) {
            return node.asText();
        }
        throw error(path, kind(node) + " (expected " + expected + ")");
    }

    private boolean bool(String path, JsonNode node) {
        if (!node.isBoolean()) {
            throw error(path, kind(node) + " (expected true or false)");
        }
        return node.booleanValue();
    }

    private static String kind(JsonNode node) {
        return switch (node.getNodeType()) {
            case OBJECT, POJO -> "a mapping";
            case ARRAY -> "a list";
            case STRING -> "a string";
            case NUMBER -> "a number";
            case BOOLEAN -> "a boolean";
            case BINARY -> "binary data";
            default -> "no value";
        };
    }

    // ---- messages

    private String label(String path) {
        return file + ": " + path;
    }

    private UsageException error(String path, String problem) {
        return UsageException.of(label(path), problem);
    }

    /** An unknown key, with the known key it is a misspelling of, else all of them. */
    private UsageException unknownKey(String path, String key, List<String> known) {
        String bare = key.replace("-", "").replace("_", "").toLowerCase(Locale.ROOT);
        for (String k : known) {
            String candidate = k.toLowerCase(Locale.ROOT);
            if (candidate.equals(bare) || (bare.length() > 3 && distance(bare, candidate) <= 2)) {
                return error(child(path, key), "unknown key (did you mean " + k + "?)");
            }
        }
        return error(child(path, key), "unknown key (expected " + String.join(", ", known) + ")");
    }

    /** The edits (insert, delete, replace, swap two neighbours) that turn one word into the other. */
    private static int distance(String a, String b) {
        int[][] d = new int[a.length() + 1][b.length() + 1];
        for (int i = 0; i <= a.length(); i++) {
            for (int j = 0; j <= b.length(); j++) {
                if (i == 0 || j == 0) {
                    d[i][j] = i + j;
                    continue;
                }
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                d[i][j] = Math.min(Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1), d[i - 1][j - 1] + cost);
                if (i > 1 && j > 1 && a.charAt(i - 1) == b.charAt(j - 2) && a.charAt(i - 2) == b.charAt(j - 1)) {
                    d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
                }
            }
        }
        return d[a.length()][b.length()];
    }

    private static String child(String path, String key) {
        return path.isEmpty() ? key : path + "." + key;
    }

    private static String index(String path, int i) {
        return path + "[" + i + "]";
    }

    /** Runs a Gatehouse builder step on a value, reporting what it refuses as a mistake of the value's key. */
    private void checked(String path, Runnable step) {
        built(path, () -> {
            step.run();
            return null;
        });
    }

    /** Runs a Gatehouse builder step and returns what it built, reporting what it refuses as a mistake of the key. */
    private <T> T built(String path, Supplier<T> step) {
        try {
            return step.get();
        } catch (IllegalArgumentException | IllegalStateException | GatewayException e) {
            String message = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
            // Gatehouse's builders start with the name of their parameter ("path: /a{ (...)"): the key path says it.
            throw error(path, message.replaceFirst("^[A-Za-z][A-Za-z0-9]*: ", ""));
        }
    }
}
