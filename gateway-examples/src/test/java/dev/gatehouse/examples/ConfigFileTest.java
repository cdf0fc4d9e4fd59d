package dev.gatehouse.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import dev.gatehouse.CloseStatus;
import dev.gatehouse.OverflowAction;
import dev.gatehouse.Route;
import dev.gatehouse.Settings;
import dev.gatehouse.balance.Balance;
import dev.gatehouse.balance.BackendGroup;
import dev.gatehouse.balance.HealthCheck;
import dev.gatehouse.hazelcast.HazelcastCluster;
import dev.gatehouse.policy.LimitKey;

class ConfigFileTest {

    /** Every secret in the bad files starts with this, so that no error line may contain it. */
    private static final String SECRET = "s3cr3t";

    @TempDir
    Path dir;

    private String write(String name, String content) throws IOException {
        Path file = dir.resolve(name);
        Files.writeString(file, content, StandardCharsets.UTF_8);
        return file.toString();
    }

    static Stream<Arguments> badFiles() {
        return Stream.of(
                // the file and its syntax
                Arguments.of("", "empty (expected a mapping of keys such as port, settings and routes)"),
                Arguments.of("# only a comment\n", "empty (expected a mapping of keys such as port, settings and routes)"),
                Arguments.of("- port: 8080\n",
                        "the top level is a list (expected a mapping of keys such as port, settings and routes)"),
                Arguments.of("just text\n",
                        "the top level is a string (expected a mapping of keys such as port, settings and routes)"),
                Arguments.of("port: 8080\nhost: a: b\n", "2:8: mapping values are not allowed here"),
                Arguments.of("auth:\n  jwt: {hs256Secret: \"s3cr3t-unclosed\n",
                        "3:1: found unexpected end of stream (while scanning a quoted scalar at 2:22)"),
                Arguments.of("\tport: 8080\n", "1:1: found character '\\t(TAB)' that cannot start any token. "
                        + "(Do not use \\t(TAB) for indentation)"),
                Arguments.of("port: 8080\nport: 9090\n", "port: duplicate key"),
                Arguments.of("routes:\n  - path: /a\n    backend: ws://localhost:7000\n    path: /b\n", "routes[0].path: duplicate key"),
                Arguments.of("port: 1\n---\nport: 2\n", "3:1: a second document (expected one)"),
                Arguments.of("base: &t 30s\nsettings: {idleTimeout: *t}\n",
                        "settings.idleTimeout: an alias (expected a value; aliases are not supported)"),
                Arguments.of("{\"auth\": {\"apiKeys\": [s3cr3t-bare]}}", "1:23: Unrecognized token: was expecting "
                        + "(JSON String, Number, Array, Object or token 'null', 'true' or 'false')"),
                Arguments.of("{\"port\": 8080", "1:14: Unexpected end-of-input: expected close marker for Object "
                        + "(start marker at 1:1)"),
                Arguments.of("{\"port\": 8080, \"port\": 8081}", "port: duplicate key"),
                // keys and values
                Arguments.of("prot: 8080\n", "prot: unknown key (did you mean port?)"),
                Arguments.of("listen: 8080\n", "listen: unknown key (expected port, host, settings, auth, allowOrigins, allowMissingOrigin, "
                        + "requestTimeout, authFailureLimit, routes, management, metrics, cluster)"),
                Arguments.of("port: http\n", "port: bad port \"http\" (expected 0-65535)"),
                Arguments.of("port: 65536\n", "port: bad port \"65536\" (expected 0-65535)"),
                Arguments.of("port: [8080]\n", "port: a list (expected a port 0-65535)"),
                Arguments.of("host:\n", "host: no value (expected a host name or address)"),
                Arguments.of("host: \"\"\n", "host: empty (expected a host name or address)"),
                Arguments.of("settings:\n  idleTimeout: 10 minutes\n",
                        "settings.idleTimeout: bad duration \"10 minutes\" (expected e.g. 500ms, 30s, 5m)"),
                Arguments.of("settings:\n  idle-timeout: 10m\n", "settings.idle-timeout: unknown key (did you mean idleTimeout?)"),
                Arguments.of("settings: 10m\n", "settings: a string (expected a mapping of idleTimeout, pingInterval, "
                        + "connectTimeout, maxMessageSize, maxLifetime, maxLifetimeJitter, lifetimeStatus, outboundOverflow)"),
                Arguments.of("settings:\n  connectTimeout: 0\n",
                        "settings.connectTimeout: bad duration \"0\" (expected more than 0, e.g. 5s)"),
                Arguments.of("settings:\n  maxMessageSize: lots\n",
                        "settings.maxMessageSize: bad size \"lots\" (expected bytes, e.g. 65536, 64k, 1m)"),
                Arguments.of("settings:\n  pingInterval: true\n",
                        "settings.pingInterval: a boolean (expected a duration such as 500ms, 30s, 5m)"),
                Arguments.of("settings:\n  maxLifetime: 2 hours\n",
                        "settings.maxLifetime: bad duration \"2 hours\" (expected e.g. 500ms, 30s, 5m)"),
                Arguments.of("settings:\n  maxLifetime: -1h\n",
                        "settings.maxLifetime: bad duration \"-1h\" (expected e.g. 500ms, 30s, 5m)"),
                Arguments.of("settings:\n  maxLifetimeJitter: 60%\n",
                        "settings.maxLifetimeJitter: bad jitter \"60%\" (expected 0% to 50%, e.g. 10%)"),
                Arguments.of("settings:\n  maxLifetimeJitter: 10\n",
                        "settings.maxLifetimeJitter: bad jitter \"10\" (expected 0% to 50%, e.g. 10%)"),
                Arguments.of("settings:\n  maxLifetimeJitter: some\n",
                        "settings.maxLifetimeJitter: bad jitter \"some\" (expected 0% to 50%, e.g. 10%)"),
                Arguments.of("settings:\n  maxLifetimeJitter: [10%]\n",
                        "settings.maxLifetimeJitter: a list (expected a percentage such as 10%)"),
                Arguments.of("settings:\n  lifetimeStatus: 1006\n",
                        "settings.lifetimeStatus: bad close code \"1006\" (expected one that may be sent, e.g. 1001 or 1012)"),
                Arguments.of("settings:\n  lifetimeStatus: 1015\n",
                        "settings.lifetimeStatus: bad close code \"1015\" (expected one that may be sent, e.g. 1001 or 1012)"),
                Arguments.of("settings:\n  lifetimeStatus: 5000\n",
                        "settings.lifetimeStatus: bad close code \"5000\" (expected one that may be sent, e.g. 1001 or 1012)"),
                Arguments.of("settings:\n  lifetimeStatus: restart\n",
                        "settings.lifetimeStatus: bad close code \"restart\" (expected one that may be sent, e.g. 1001 or 1012)"),
                Arguments.of("settings:\n  outboundOverflow: drop\n",
                        "settings.outboundOverflow: bad action \"drop\" (expected refuse or close)"),
                Arguments.of("settings:\n  outboundOverflow: true\n",
                        "settings.outboundOverflow: a boolean (expected refuse or close)"),
                Arguments.of("routes:\n  - path: /a\n    backend: ws://localhost:7000\n    settings: {maxLifetime: forever}\n",
                        "routes[0].settings.maxLifetime: bad duration \"forever\" (expected e.g. 500ms, 30s, 5m)"),
                Arguments.of("requestTimeout: 10\n", "requestTimeout: bad duration \"10\" (expected e.g. 500ms, 30s, 5m)"),
                Arguments.of("authFailureLimit: -1\n",
                        "authFailureLimit: bad number \"-1\" (expected failures a minute, e.g. 60, or 0 to disable)"),
                Arguments.of("allowOrigins: https://app.example.com\n",
                        "allowOrigins: a string (expected a list of origins such as https://app.example.com)"),
                Arguments.of("allowOrigins: [https://app.example.com, localhost]\n",
                        "allowOrigins[1]: localhost (expected: scheme://host[:port] or scheme://*.domain[:port])"),
                Arguments.of("allowOrigins: []\n",
                        "allowOrigins: empty (expected at least one origin; without allowOrigins any origin may connect)"),
                // auth: never the secret
                Arguments.of("auth: none\n", "auth: a string (expected a mapping with apiKeys, jwt or both)"),
                Arguments.of("auth: {}\n", "auth: empty (expected apiKeys, jwt or both)"),
                Arguments.of("auth:\n  apiKeys: s3cr3t-one\n", "auth.apiKeys: a string (expected a list of API keys)"),
                Arguments.of("auth:\n  apiKeys: [s3cr3t-one, 12345]\n", "auth.apiKeys[1]: a number (expected an API key)"),
                Arguments.of("auth:\n  apiKeys: [s3cr3t-one, s3cr3t-two, s3cr3t-one]\n",
                        "auth.apiKeys[2]: the same key as auth.apiKeys[0] (expected each key once)"),
                Arguments.of("auth:\n  jwt: {hs256Secret: [s3cr3t-x]}\n", "auth.jwt.hs256Secret: a list (expected a secret)"),
                Arguments.of("auth:\n  jwt: {hs256Secret: s3cr3t-long-enough-for-hs256-ok!, issuer: \"\"}\n",
                        "auth.jwt.issuer: empty (expected the required iss)"),
                Arguments.of("auth:\n  jwt: {secret: s3cr3t-x}\n",
                        "auth.jwt.secret: unknown key (expected hs256Secret, issuer, audience)"),
                Arguments.of("auth:\n  jwt: {issuer: https://login.example.com}\n",
                        "auth.jwt: no hs256Secret (expected it here or in --jwt-hs256-secret)"),
                // routes
                Arguments.of("routes:\n  path: /a\n", "routes: a mapping (expected a list of routes)"),
                Arguments.of("routes:\n  - /a=ws://localhost:7000\n", "routes[0]: a string (expected a mapping with path and backend)"),
                Arguments.of("routes:\n  - backend: ws://localhost:7000\n", "routes[0]: no path (expected a path such as /chat/{room})"),
                Arguments.of("routes:\n  - path: /a\n", "routes[0]: no backend (expected backend, or integrations for a "
                        + "WebSocket API route)"),
                Arguments.of("routes:\n  - path: a\n    backend: ws://localhost:7000\n", "routes[0].path: a (expected: starts with /)"),
                Arguments.of("routes:\n  - path: /a\n    backend: http://localhost:7000\n",
                        "routes[0].backend: http://localhost:7000 (expected: a ws:// or wss:// URL)"),
                Arguments.of("routes:\n  - path: /a/{x}\n    backend: ws://localhost:7000/{y}\n",
                        "routes[0].backend: ws://localhost:7000/{y} uses {y}, which route /a/{x} does not define"),
                Arguments.of("routes:\n  - path: /a\n    bakend: ws://localhost:7000\n", "routes[0].bakend: unknown key (did you mean backend?)"),
                Arguments.of("routes:\n  - path: /a\n    backend: ws://localhost:7000\n  - path: /a\n    backend: ws://localhost:7001\n",
                        "routes: Route[/a] and Route[/a] match the same requests"),
                Arguments.of("routes:\n  - path: /a/{x}\n    backend: ws://localhost:7000\n  - path: /a/{y}\n    backend: ws://localhost:7001\n",
                        "routes: Route[/a/{x}] and Route[/a/{y}] match the same requests"),
                Arguments.of("routes:\n  - path: /a\n    backend: ws://localhost:7000\n    auth: open\n",
                        "routes[0].auth: a string other than none (expected none, or a mapping with apiKeys, jwt or both)"),
                Arguments.of("routes:\n  - path: /a\n    backend: ws://localhost:7000\n    auth: {jwt: {issuer: x}}\n",
                        "routes[0].auth.jwt: no hs256Secret (expected hs256Secret, with optional issuer and audience)"),
                Arguments.of("routes:\n  - path: /a\n    backend: ws://localhost:7000\n    settings: {idleTimeout: soon}\n",
                        "routes[0].settings.idleTimeout: bad duration \"soon\" (expected e.g. 500ms, 30s, 5m)"),
                // load-balanced groups
                Arguments.of("routes:\n  - path: /chat\n    backend: ws://localhost:7000\n  - path: /b\n    backend: ws://localhost:7000\n"
                        + "  - path: /feed\n    targets: [ws://a:7001, ws://b:7001]\n    balance: fastest\n",
                        "routes[2].balance: unknown policy \"fastest\" (expected round-robin, least-connections, hash:ip, "
                        + "hash:principal, hash:header:NAME or hash:query:NAME)"),
                Arguments.of(group("balance: \"hash:header:\"\n"), "routes[0].balance: unknown policy \"hash:header:\" (expected "
                        + "round-robin, least-connections, hash:ip, hash:principal, hash:header:NAME or hash:query:NAME)"),
                Arguments.of("routes:\n  - path: /feed\n    backend: ws://a:7001\n    healthCheck: {interval: 5s}\n",
                        "routes[0].healthCheck: needs targets"),
                Arguments.of("routes:\n  - path: /feed\n    backend: ws://a:7001\n    attempts: 3\n",
                        "routes[0].attempts: needs targets"),
                Arguments.of("routes:\n  - path: /feed\n    targets: []\n", "routes[0].targets: empty (expected at least one target)"),
                Arguments.of("routes:\n  - path: /feed\n    targets: ws://a:7001\n",
                        "routes[0].targets: a string (expected a list of ws:// or wss:// URLs, or of {url, weight})"),
                Arguments.of("routes:\n  - path: /feed\n    targets: [ws://a:7001, http://b:7001]\n",
                        "routes[0].targets[1]: http://b:7001 (expected: a ws:// or wss:// URL)"),
                Arguments.of("routes:\n  - path: /feed\n    targets: [{url: ws://a:7001, weight: 0}]\n",
                        "routes[0].targets[0].weight: bad number \"0\" (expected a weight from 1 to 1000)"),
                Arguments.of("routes:\n  - path: /feed\n    targets: [{url: ws://a:7001, weight: heavy}]\n",
                        "routes[0].targets[0].weight: bad number \"heavy\" (expected a weight from 1 to 1000)"),
                Arguments.of("routes:\n  - path: /feed\n    targets: [{weight: 2}]\n",
                        "routes[0].targets[0]: no url (expected a ws:// or wss:// URL, with an optional weight)"),
                Arguments.of("routes:\n  - path: /feed\n    targets: [{url: ws://a:7001, wieght: 2}]\n",
                        "routes[0].targets[0].wieght: unknown key (did you mean weight?)"),
                Arguments.of("routes:\n  - path: /feed\n    targets: [\"ws://a:7001/{room}\"]\n",
                        "routes[0].targets: ws://a:7001/{room} uses {room}, which route /feed does not define"),
                Arguments.of(group("attempts: 0\n"),
                        "routes[0].attempts: bad number \"0\" (expected the most targets a handshake tries, 1 or more)"),
                Arguments.of(group("ejectFor: 0\n"), "routes[0].ejectFor: bad duration \"0\" (expected more than 0, e.g. 5s)"),
                Arguments.of(group("slowStart: soon\n"),
                        "routes[0].slowStart: bad duration \"soon\" (expected e.g. 500ms, 30s, 5m)"),
                Arguments.of(group("refuseWhenNoneHealthy: yes please\n"),
                        "routes[0].refuseWhenNoneHealthy: a string (expected true or false)"),
                Arguments.of(group("closeSessionsOnDown: 30s\n"),
                        "routes[0].closeSessionsOnDown: needs healthCheck (only its probes take a target down)"),
                Arguments.of(group("healthCheck: 5s\n"), "routes[0].healthCheck: a string (expected a mapping of kind, path, "
                        + "interval, timeout, fall, rise)"),
                Arguments.of(group("healthCheck: {intervall: 5s}\n"),
                        "routes[0].healthCheck.intervall: unknown key (did you mean interval?)"),
                Arguments.of(group("healthCheck: {interval: 0}\n"),
                        "routes[0].healthCheck.interval: bad duration \"0\" (expected more than 0, e.g. 5s)"),
                Arguments.of(group("healthCheck: {fall: 0}\n"),
                        "routes[0].healthCheck.fall: bad number \"0\" (expected failed probes in a row, 1 or more)"),
                Arguments.of(group("healthCheck: {kind: grpc}\n"),
                        "routes[0].healthCheck.kind: unknown kind \"grpc\" (expected websocket or http)"),
                Arguments.of(group("healthCheck: {kind: http}\n"),
                        "routes[0].healthCheck: kind http needs a path (expected e.g. path: /health)"),
                Arguments.of(group("healthCheck: {path: health}\n"),
                        "routes[0].healthCheck.path: health (expected: a path such as /health)"),
                Arguments.of("routes:\n  - path: /chat/{room}\n    targets: [\"ws://a:7001/rooms/{room}\"]\n    healthCheck: {}\n",
                        "routes[0].healthCheck: no path, and target ws://a:7001/rooms/{room} has path parameters (expected: "
                        + "a check with a path of its own, such as /health)"),
                Arguments.of("routes:\n  - path: /feed\n    backend: ws://a:7001\n    targets: [ws://b:7001]\n",
                        "routes[0]: both backend and targets (expected one of them)"),
                // management
                Arguments.of("management:\n  port: 9090\n", "management: no apiKeys (expected at least one key: every "
                        + "management request needs one in X-API-Key; or --management-key)"),
                Arguments.of("management:\n  apiKeys: [mgmt-key]\n",
                        "management: no port (expected the management API's own port, e.g. 9090)"),
                Arguments.of("management:\n  port: 9090\n  apiKeys: []\n", "management.apiKeys: empty (expected at least one key)"),
                Arguments.of("management:\n  port: 99999\n  apiKeys: [mgmt-key]\n",
                        "management.port: bad port \"99999\" (expected 0-65535)"),
                Arguments.of("management:\n  port: 9090\n  apiKeys: [mgmt-key]\n  keys: [x]\n",
                        "management.keys: unknown key (expected port, host, apiKeys)"),
                Arguments.of("management: 9090\n", "management: a number (expected a mapping of port, host and apiKeys)"),
                Arguments.of("management:\n  port: 9090\n  apiKeys: [mgmt-key, mgmt-key]\n",
                        "management.apiKeys[1]: the same key as management.apiKeys[0] (expected each key once)"),
                Arguments.of("cluster:\n  name: gatehouse\nPort: 1\n", "Port: unknown key (did you mean port?)"),
                // cluster
                Arguments.of("cluster: 5701\n", "cluster: a number (expected a mapping of name, port, members, limitsFallback, limitsTimeout)"),
                Arguments.of("cluster:\n  prot: 5701\n", "cluster.prot: unknown key (did you mean port?)"),
                Arguments.of("cluster:\n  nodes: []\n",
                        "cluster.nodes: unknown key (expected name, port, members, limitsFallback, limitsTimeout)"),
                Arguments.of("cluster:\n  limitsFallback: fail\n",
                        "cluster.limitsFallback: bad fallback \"fail\" (expected local, open or closed)"),
                Arguments.of("cluster:\n  limitsFallback: [local]\n",
                        "cluster.limitsFallback: a list (expected local, open or closed)"),
                Arguments.of("cluster:\n  limitsTimeout: 0\n",
                        "cluster.limitsTimeout: bad duration \"0\" (expected more than 0, e.g. 5s)"),
                Arguments.of("cluster:\n  limitsTimeout: a while\n",
                        "cluster.limitsTimeout: bad duration \"a while\" (expected e.g. 500ms, 30s, 5m)"),
                Arguments.of("cluster:\n  limitTimeout: 1s\n", "cluster.limitTimeout: unknown key (did you mean limitsTimeout?)"),
                // a route's limits
                Arguments.of(proxy("maxConnections: 0\n"),
                        "routes[0].maxConnections: bad number \"0\" (expected a number of connections, 1 or more)"),
                Arguments.of(proxy("maxConnectionsPerPrincipal: -5\n"),
                        "routes[0].maxConnectionsPerPrincipal: bad number \"-5\" (expected a number of connections, 1 or more)"),
                Arguments.of(proxy("maxConnectionsPerIp: [20]\n"),
                        "routes[0].maxConnectionsPerIp: a list (expected a number of connections, 1 or more)"),
                Arguments.of(proxy("maxConnectionsPerIp: 2.5\n"),
                        "routes[0].maxConnectionsPerIp: bad number \"2.5\" (expected a number of connections, 1 or more)"),
                Arguments.of(proxy("maxConnection: 5\n"), "routes[0].maxConnection: unknown key (did you mean maxConnections?)"),
                Arguments.of(proxy("rateLimit: 10\n"),
                        "routes[0].rateLimit: a number (expected a mapping of permits, per, burst, key)"),
                Arguments.of(proxy("rateLimit: {per: 1s, burst: 20}\n"),
                        "routes[0].rateLimit: no permits (expected permits, e.g. {permits: 10, per: 1s})"),
                Arguments.of(proxy("rateLimit: {permits: 0}\n"),
                        "routes[0].rateLimit.permits: bad number \"0\" (expected handshakes per period, 1 or more)"),
                Arguments.of(proxy("rateLimit: {permits: ten}\n"),
                        "routes[0].rateLimit.permits: bad number \"ten\" (expected handshakes per period, 1 or more)"),
                Arguments.of(proxy("rateLimit: {permits: 10, per: 0}\n"),
                        "routes[0].rateLimit.per: bad duration \"0\" (expected more than 0, e.g. 5s)"),
                Arguments.of(proxy("rateLimit: {permits: 10, per: second}\n"),
                        "routes[0].rateLimit.per: bad duration \"second\" (expected e.g. 500ms, 30s, 5m)"),
                Arguments.of(proxy("rateLimit: {permits: 10, burst: 0}\n"),
                        "routes[0].rateLimit.burst: bad number \"0\" (expected the most handshakes at once, 1 or more)"),
                Arguments.of(proxy("rateLimit: {permits: 10, key: user}\n"),
                        "routes[0].rateLimit.key: bad key \"user\" (expected ip, principal or route)"),
                Arguments.of(proxy("rateLimit: {permits: 10, key: [ip]}\n"),
                        "routes[0].rateLimit.key: a list (expected ip, principal or route)"),
                Arguments.of(proxy("rateLimit: {permits: 10, prmits: 10}\n"),
                        "routes[0].rateLimit.prmits: unknown key (did you mean permits?)"),
                Arguments.of(proxy("rateLimit: {permits: 10, window: 1s}\n"),
                        "routes[0].rateLimit.window: unknown key (expected permits, per, burst, key)"),
                Arguments.of("cluster:\n  name: \"\"\n", "cluster.name: empty (expected a cluster name, e.g. gatehouse)"),
                Arguments.of("cluster:\n  name: [a]\n", "cluster.name: a list (expected a cluster name, e.g. gatehouse)"),
                Arguments.of("cluster:\n  port: 0\n", "cluster.port: bad port \"0\" (expected 1-65535)"),
                Arguments.of("cluster:\n  port: 70000\n", "cluster.port: bad port \"70000\" (expected 1-65535)"),
                Arguments.of("cluster:\n  port: [5701]\n", "cluster.port: a list (expected a port 1-65535)"),
                Arguments.of("cluster:\n  members: 127.0.0.1:5701\n",
                        "cluster.members: a string (expected a list of host:port, e.g. 10.0.0.1:5701)"),
                Arguments.of("cluster:\n  members: [127.0.0.1:5701, 127.0.0.1]\n",
                        "cluster.members[1]: bad member \"127.0.0.1\" (expected host:port, e.g. 10.0.0.1:5701)"),
                Arguments.of("cluster:\n  members: [\"a:0\"]\n",
                        "cluster.members[0]: bad member \"a:0\" (expected host:port, e.g. 10.0.0.1:5701)"),
                Arguments.of("cluster:\n  members: [{host: a}]\n",
                        "cluster.members[0]: a mapping (expected host:port, e.g. 10.0.0.1:5701)"),
                // WebSocket API routes: checked in full, then refused
                Arguments.of("routes:\n  - path: /api\n    backend: ws://a:7001\n    integrations: {$default: http://svc/default}\n",
                        "routes[0]: both backend and integrations (expected one of them)"),
                Arguments.of("routes:\n  - path: /api\n    integrations: {$connected: http://svc/c}\n",
                        "routes[0].integrations.$connected: unknown route key (expected $connect, $disconnect, $default or "
                        + "a name not starting with $)"),
                Arguments.of("routes:\n  - path: /api\n    integrations: {send: ws://svc/send}\n",
                        "routes[0].integrations.send: \"ws://svc/send\" (expected an http:// or https:// URL)"),
                Arguments.of("routes:\n  - path: /api\n    integrations: {}\n",
                        "routes[0].integrations: empty (expected at least one route key, e.g. $default)"),
                Arguments.of("routes:\n  - path: /api\n    integrations: {$default: http://svc/d}\n    replies: maybe\n",
                        "routes[0].replies: a string (expected true or false)"),
                Arguments.of("routes:\n  - path: /api\n    integrations: {$default: http://svc/d}\n    selection: 7\n",
                        "routes[0].selection: a number (expected a route selection expression such as $request.body.action)"),
                Arguments.of("allowMissingOrigin: false\n",
                        "allowMissingOrigin: needs allowOrigins (without it any origin may connect)"),
                Arguments.of("allowOrigins: [https://a.example.com]\nallowMissingOrigin: maybe\n",
                        "allowMissingOrigin: a string (expected true or false)"),
                Arguments.of("routes:\n  - path: /api\n    backend: ws://a:7001\n    replies: false\n",
                        "routes[0].replies: needs integrations (for a WebSocket API route)"),
                Arguments.of("routes:\n  - path: /api\n    integrations:\n      $connect: http://svc/connect\n      $disconnect: http://svc/d\n",
                        "routes[0]: integrations: none for messages (expected: $default or a route key of your own)"),
                Arguments.of("routes:\n  - path: /api\n    integrations: {$default: http://svc/d}\n    selection: \"${request.body.action\"\n",
                        "routes[0]: selection: \"${request.body.action\" (expected: a closing } at 21)"));
    }

    /** A file with one group route, {@code /feed} over two targets, and these keys of the route. */
    /** A proxy route with more keys, each line indented as a key of the route. */
    private static String proxy(String keys) {
        return "routes:\n  - path: /a\n    backend: ws://a:7001\n    " + keys;
    }

    private static String group(String keys) {
        return "routes:\n  - path: /feed\n    targets: [ws://a:7001, ws://b:7001]\n    " + keys;
    }

    @ParameterizedTest(name = "{1}")
    @MethodSource("badFiles")
    void refusesABadFileWithOneLineNamingTheFileAndKeyAndStatus2(String content, String problem) throws IOException {
        String file = write("gw.yaml", content);
        try (Runner r = Runner.launch("--config", file, "--port", "0")) {
            assertEquals(new Standalone.Exit(2), r.launch, r.err);
            assertEquals(List.of("error: " + file + ": " + problem), r.errLines());
            assertEquals("", r.out);
            assertFalse(r.err.contains(SECRET), r.err);
        }
    }

    @Test
    void namesTheFileAsGiven() throws IOException {
        write("gw.yaml", "prot: 1\n");
        String given = dir + "/./gw.yaml";
        try (Runner r = Runner.launch("--config", given)) {
            assertEquals(List.of("error: " + given + ": prot: unknown key (did you mean port?)"), r.errLines());
        }
    }

    @Test
    void refusesAMissingFileADirectoryAndBinaryContent() throws IOException {
        String missing = dir.resolve("missing.yaml").toString();
        Path binary = dir.resolve("binary.yaml");
        Files.write(binary, new byte[] {'p', ':', ' ', (byte) 0xC3, (byte) 0x28});
        Map<String, String> expected = Map.of(
                missing, "error: " + missing + ": no such file",
                dir.toString(), "error: " + dir + ": a directory (expected a YAML or JSON file)",
                binary.toString(), "error: " + binary + ": not UTF-8 text");
        for (Map.Entry<String, String> e : expected.entrySet()) {
            try (Runner r = Runner.launch("--config", e.getKey())) {
                assertEquals(new Standalone.Exit(2), r.launch);
                assertEquals(List.of(e.getValue()), r.errLines());
            }
        }
    }

    @Test
    void refusesAFileOverOneMebibyte() throws IOException {
        String file = write("big.yaml", "# " + "x".repeat(ConfigFile.MAX_BYTES) + "\nport: 0\n");
        UsageException e = assertThrows(UsageException.class, () -> ConfigFile.read(file));
        assertEquals(file + ": larger than 1m (expected a config file)", e.getMessage());
    }

    @Test
    void refusesAConfigGivenTwice() throws IOException {
        String file = write("gw.yaml", "port: 0\n");
        try (Runner r = Runner.launch("--config", file, "--config", file)) {
            assertEquals(new Standalone.Exit(2), r.launch);
            assertEquals(List.of("error: --config: given more than once"), r.errLines());
        }
    }

    @Test
    void readsEveryKeyOfTheExampleIntoTheModel() throws IOException {
        String file = write("gw.yaml", """
                port: 8080
                host: 0.0.0.0
                settings:
                  idleTimeout: 10m
                  pingInterval: 30s
                  connectTimeout: 10s
                  maxMessageSize: 64k
                  maxLifetime: 0
                auth:
                  apiKeys: [key-one, key-two]
                  jwt: {hs256Secret: "a-256-bit-secret-for-the-tests!!", issuer: "https://issuer", audience: "api"}
                allowOrigins: [https://app.example.com]
                requestTimeout: 5s
                authFailureLimit: 0
                routes:
                  - path: /chat/{room}
                    backend: ws://chat.internal:7000/rooms/{room}
                  - path: /feed
                    backend: ws://feed.internal:7001/feed
                    settings: {idleTimeout: 1h}
                    auth: none
                  - path: /own
                    backend: ws://own.internal:7002/
                    auth: {apiKeys: [own-key]}
                """);
        RunnerConfig c = ConfigFile.read(file);
        assertEquals(8080, c.port().orElseThrow());
        assertEquals("0.0.0.0", c.host().orElseThrow());
        assertEquals(Duration.ofMinutes(10), c.settings().idleTimeout().orElseThrow());
        assertEquals(Duration.ofSeconds(30), c.settings().pingInterval().orElseThrow());
        assertEquals(Duration.ofSeconds(10), c.settings().connectTimeout().orElseThrow());
        assertEquals(64 << 10, c.settings().maxMessageSize().orElseThrow());
        RunnerConfig.Credentials auth = c.auth().orElseThrow();
        assertEquals(List.of("key-one", "key-two"), auth.apiKeys().stream().map(RunnerConfig.Secret::value).toList());
        assertEquals(Optional.of("https://issuer"), auth.jwt().orElseThrow().issuer());
        assertEquals(List.of("https://app.example.com"), c.allowOrigins());
        assertEquals(Duration.ofSeconds(5), c.requestTimeout().orElseThrow());
        assertEquals(List.of("routes[0]", "routes[1]", "routes[2]"), c.routes().stream().map(RunnerConfig.RouteEntry::key).toList());
        assertEquals(new RunnerConfig.Proxy("ws://chat.internal:7000/rooms/{room}"), c.routes().get(0).target());
        assertEquals(Duration.ofHours(1), c.routes().get(1).settings().orElseThrow().idleTimeout().orElseThrow());
        assertInstanceOf(RunnerConfig.Anonymous.class, c.routes().get(1).auth().orElseThrow());
        assertInstanceOf(RunnerConfig.Credentials.class, c.routes().get(2).auth().orElseThrow());
        assertFalse(c.toString().contains("key-one"), c.toString());
        assertFalse(c.toString().contains("a-256-bit-secret"), c.toString());
    }

    @Test
    void readsTheLifetimeAndOverflowSettingsGatewayWideAndPerRoute() throws IOException {
        String file = write("gw.yaml", """
                settings:
                  maxLifetime: 2h
                  maxLifetimeJitter: 12.5%
                  lifetimeStatus: 1012
                  outboundOverflow: close
                routes:
                  - path: /short
                    backend: ws://short.internal:7000/
                    settings: {maxLifetime: 90s, maxLifetimeJitter: 0, lifetimeStatus: 1001, outboundOverflow: refuse}
                  - path: /fraction
                    backend: ws://fraction.internal:7000/
                    settings: {maxLifetimeJitter: 0.5}
                """);
        RunnerConfig c = ConfigFile.read(file);
        RunnerConfig.SettingsValues top = c.settings();
        assertEquals(Duration.ofHours(2), top.maxLifetime().orElseThrow());
        assertEquals(0.125, top.maxLifetimeJitter().orElseThrow());
        assertEquals(CloseStatus.of(1012, "max lifetime"), top.lifetimeStatus().orElseThrow());
        assertEquals(OverflowAction.CLOSE, top.outboundOverflow().orElseThrow());
        RunnerConfig.SettingsValues route = c.routes().get(0).settings().orElseThrow();
        assertEquals(Duration.ofSeconds(90), route.maxLifetime().orElseThrow());
        assertEquals(0, route.maxLifetimeJitter().orElseThrow());
        assertEquals(CloseStatus.of(1001, "max lifetime"), route.lifetimeStatus().orElseThrow());
        assertEquals(OverflowAction.REFUSE, route.outboundOverflow().orElseThrow());
        assertEquals(0.5, c.routes().get(1).settings().orElseThrow().maxLifetimeJitter().orElseThrow());

        Settings built = top.applyTo(Settings.builder()).build();
        assertEquals(Duration.ofHours(2), built.maxLifetime());
        assertEquals(0.125, built.maxLifetimeJitter());
        assertEquals(CloseStatus.of(1012, "max lifetime"), built.lifetimeStatus());
        assertEquals(OverflowAction.CLOSE, built.outboundOverflow());
        assertEquals(Duration.ZERO, RunnerConfig.SettingsValues.NONE.applyTo(Settings.builder()).build().maxLifetime(),
                "absent: no maximum lifetime");
    }

    @Test
    void readsAGroupRouteIntoTheBackendGroupItDescribes() throws IOException {
        String file = write("gw.yaml", """
                routes:
                  - path: /feed
                    targets:
                      - ws://feed-a.internal:7001/feed
                      - {url: ws://feed-b.internal:7001/feed, weight: 2}
                      - {url: "wss://feed-c.internal/feed"}
                    balance: hash:query:room
                    healthCheck: {kind: http, path: /health, interval: 2s, timeout: 500ms, fall: 2, rise: "3"}
                    attempts: 3
                    ejectAfter: 5
                    ejectFor: 30s
                    slowStart: 1m
                    refuseWhenNoneHealthy: true
                    closeSessionsOnDown: 20s
                  - path: /chat/{room}
                    targets: ["ws://chat-a.internal/rooms/{room}", "ws://chat-b.internal/rooms/{room}"]
                    healthCheck: {path: /ws-health}
                  - path: /plain
                    targets: [ws://plain.internal/ws]
                    refuseWhenNoneHealthy: false
                """);
        RunnerConfig c = ConfigFile.read(file);
        BackendGroup expected = BackendGroup.builder()
                .target("ws://feed-a.internal:7001/feed")
                .target("ws://feed-b.internal:7001/feed", 2)
                .target("wss://feed-c.internal/feed")
                .balance(Balance.hash(Balance.Key.query("room")))
                .healthCheck(HealthCheck.builder().kind(HealthCheck.Kind.HTTP).path("/health").interval(Duration.ofSeconds(2))
                        .timeout(Duration.ofMillis(500)).fall(2).rise(3).build())
                .attempts(3).ejectAfter(5).ejectFor(Duration.ofSeconds(30)).slowStart(Duration.ofMinutes(1))
                .refuseWhenNoneHealthy().closeSessionsOnDown(Duration.ofSeconds(20))
                .build();
        assertEquals(new RunnerConfig.Group(expected), c.routes().get(0).target());
        assertEquals(new RunnerConfig.Group(BackendGroup.builder().target("ws://chat-a.internal/rooms/{room}")
                .target("ws://chat-b.internal/rooms/{room}").healthCheck(HealthCheck.builder().path("/ws-health").build())
                .build()), c.routes().get(1).target());
        assertEquals(new RunnerConfig.Group(BackendGroup.of("ws://plain.internal/ws")), c.routes().get(2).target());
        RunnerOptions options = RunnerOptions.parse(List.of("--config", file));
        assertEquals(expected, options.routes().get(0).backend().orElseThrow());
    }

    @Test
    void keepsAValidWebSocketApiRouteWithItsDefaults() throws IOException {
        String file = write("gw.yaml", """
                routes:
                  - path: /api
                    integrations:
                      $connect: http://svc.internal:8000/connect
                      sendmessage: http://svc.internal:8000/messages
                      $default: https://svc.internal:8443/default
                      $disconnect: http://svc.internal:8000/disconnect
                  - path: /rpc
                    selection: ${request.body.service}/${request.body.action}
                    integrations: {$default: http://svc.internal:8000/rpc}
                    replies: false
                """);
        RunnerConfig c = ConfigFile.read(file);
        RunnerConfig.WebSocketApi api = assertInstanceOf(RunnerConfig.WebSocketApi.class, c.routes().get(0).target());
        assertEquals(RunnerConfig.WebSocketApi.DEFAULT_SELECTION, api.selection());
        assertTrue(api.replies());
        assertEquals(List.of("$connect", "sendmessage", "$default", "$disconnect"), List.copyOf(api.integrations().keySet()));
        assertEquals(URI.create("https://svc.internal:8443/default"), api.integrations().get("$default"));
        RunnerConfig.WebSocketApi rpc = assertInstanceOf(RunnerConfig.WebSocketApi.class, c.routes().get(1).target());
        assertEquals("${request.body.service}/${request.body.action}", rpc.selection());
        assertFalse(rpc.replies());
    }

    @Test
    void readsTheClusterBlockAndItsDefaults() throws IOException {
        RunnerConfig full = ConfigFile.read(write("gw.yaml", """
                cluster:
                  name: edge
                  port: 5801
                  members: [10.0.0.1:5801, "gw-b.internal:5801", "[::1]:5801"]
                """));
        assertEquals(Optional.of(new RunnerConfig.Cluster("cluster", "edge", 5801,
                List.of("10.0.0.1:5801", "gw-b.internal:5801", "[::1]:5801"))), full.cluster());

        RunnerConfig defaults = ConfigFile.read(write("empty.yaml", "cluster: {}\n"));
        assertEquals(Optional.of(new RunnerConfig.Cluster("cluster", "gatehouse", 5701, List.of())), defaults.cluster());

        assertEquals(Optional.empty(), ConfigFile.read(write("none.yaml", "port: 0\n")).cluster());

        RunnerConfig limits = ConfigFile.read(write("limits.yaml", "cluster: {limitsFallback: closed, limitsTimeout: 250ms}\n"));
        assertEquals(Optional.of(new RunnerConfig.Cluster("cluster", "gatehouse", 5701, List.of(),
                HazelcastCluster.Fallback.CLOSED, Duration.ofMillis(250))), limits.cluster());
        assertEquals(HazelcastCluster.Fallback.LOCAL, defaults.cluster().orElseThrow().limitsFallback());
        assertEquals(Duration.ofSeconds(1), defaults.cluster().orElseThrow().limitsTimeout());
    }

    @Test
    void readsARoutesConnectionLimitsAndRateLimitWithTheirDefaults() throws IOException {
        RunnerConfig c = ConfigFile.read(write("gw.yaml", """
                routes:
                  - path: /chat
                    backend: ws://chat.internal:7000
                    maxConnections: 10000
                    maxConnectionsPerPrincipal: 5
                    maxConnectionsPerIp: "20"
                    rateLimit: {permits: 10, per: 1m, burst: 20, key: principal}
                  - path: /feed
                    backend: ws://feed.internal:7001
                    rateLimit: {permits: 3}
                  - path: /plain
                    backend: ws://plain.internal:7002
                """));
        assertEquals(new RunnerConfig.Limits(OptionalInt.of(10_000), OptionalInt.of(5), OptionalInt.of(20),
                Optional.of(new RunnerConfig.RateLimit(10, Duration.ofMinutes(1), 20, RunnerConfig.RateLimitKey.PRINCIPAL))),
                c.routes().get(0).limits());
        assertEquals(Optional.of(new RunnerConfig.RateLimit(3, Duration.ofSeconds(1), 3, RunnerConfig.RateLimitKey.IP)),
                c.routes().get(1).limits().rateLimit());
        assertEquals(RunnerConfig.Limits.NONE, c.routes().get(2).limits());

        RunnerOptions options = RunnerOptions.parse(List.of("--config", c.file()));
        Route chat = options.routes().get(0);
        assertEquals(10_000, chat.maxConnections());
        assertEquals(5, chat.maxConnectionsPerPrincipal());
        assertEquals(20, chat.maxConnectionsPerIp());
        assertEquals(List.of("RateLimitPolicy[rate:/chat: 10 per PT1M per " + LimitKey.principal() + ", burst 20]"),
                chat.policies().stream().map(Object::toString).toList());
        assertEquals(List.of("RateLimitPolicy[rate:/feed: 3 per PT1S per " + LimitKey.clientAddress() + ", burst 3]"),
                options.routes().get(1).policies().stream().map(Object::toString).toList());
        assertEquals(Optional.empty(), options.clusterLimits(), "without a cluster, each rate limit counts in memory");
    }

    @Test
    void readsJsonByItsContentWhateverTheFileIsCalled() throws IOException {
        String file = write("gatehouse.conf", "{\n\t\"port\": 9000,\n\t\"routes\": [{\"path\": \"/a\", \"backend\": \"ws://b:7000\"}]\n}\n");
        RunnerConfig c = ConfigFile.read(file);
        assertEquals(9000, c.port().orElseThrow());
        assertEquals("/a", c.routes().get(0).path());
    }

    @Test
    void warnsAboutAShortJwtSecretInTheFileWithoutShowingIt() throws IOException {
        String file = write("gw.yaml", "auth:\n  jwt: {hs256Secret: s3cr3t}\n");
        RunnerOptions o = RunnerOptions.parse(List.of("--config", file));
        assertEquals(List.of(file + ": auth.jwt.hs256Secret: a 6-byte secret is weak for HS256 (use at least 32 bytes)"),
                o.warnings());
    }

    @Test
    void readsASecretWrittenAsAnEnvironmentVariableFromTheEnvironment() throws IOException {
        String file = write("gw.yaml", """
                auth:
                  apiKeys: ["${GW_KEY}", "${GW_OTHER_KEY}", "literal-${GW_KEY}"]
                  jwt: {hs256Secret: "${GW_JWT_SECRET}"}
                management: {port: 9090, apiKeys: ["${GW_MGMT_KEY}"]}
                """);
        Map<String, String> environment = Map.of("GW_KEY", "key-from-env", "GW_OTHER_KEY", "other-key",
                "GW_JWT_SECRET", "a-256-bit-secret-from-the-environment", "GW_MGMT_KEY", "mgmt");

        RunnerConfig config = ConfigFile.read(file, environment::get);

        RunnerConfig.Credentials auth = config.auth().orElseThrow();
        assertEquals(List.of("key-from-env", "other-key", "literal-${GW_KEY}"),
                auth.apiKeys().stream().map(RunnerConfig.Secret::value).toList());
        assertEquals("a-256-bit-secret-from-the-environment",
                auth.jwt().orElseThrow().hs256Secret().orElseThrow().value());
        assertEquals("mgmt", config.management().orElseThrow().apiKeys().get(0).value());
        RunnerOptions options = RunnerOptions.parse(List.of("--config", file), environment::get);
        assertEquals(List.of(), options.warnings(), "the secret is the variable's 37 bytes, not its name");
    }

    @Test
    void refusesASecretWhoseEnvironmentVariableIsNotSetOrBlankNamingTheKeyAndTheVariable() throws IOException {
        String file = write("gw.yaml", "auth:\n  apiKeys: [\"${GW_KEY}\"]\n");
        Map<String, String> blank = Map.of("GW_KEY", "  ");

        UsageException unset = assertThrows(UsageException.class, () -> ConfigFile.read(file, name -> null));
        UsageException empty = assertThrows(UsageException.class, () -> ConfigFile.read(file, blank::get));

        assertEquals(file + ": auth.apiKeys[0]: ${GW_KEY}: the environment variable GW_KEY is not set (expected an API key)",
                unset.getMessage());
        assertEquals(file + ": auth.apiKeys[0]: ${GW_KEY}: the environment variable GW_KEY is blank (expected an API key)",
                empty.getMessage());
        String jwt = write("jwt.yaml", "auth:\n  jwt: {hs256Secret: \"${GW_SECRET}\"}\n");
        assertEquals(jwt + ": auth.jwt.hs256Secret: ${GW_SECRET}: the environment variable GW_SECRET is not set "
                + "(expected a secret)", assertThrows(UsageException.class, () -> ConfigFile.read(jwt, name -> null)).getMessage());
    }
}
