package dev.gatehouse.bench;

import java.util.List;
import java.util.Locale;


/**
 * The benchmark's scenarios, each run straight to the backend and through the gateway. Connection counts
 * can be overridden with {@code --connections}.
 */
enum Scenario {

    /** 200 connections, each with one 64 B binary message in flight: messages per second. */
    THROUGHPUT("throughput", Kind.ECHO, 200, 1, 64, false, false, Auth.NONE),
    /** Like {@link #THROUGHPUT} with 64-character text messages. */
    THROUGHPUT_TEXT("throughput-text", Kind.ECHO, 200, 1, 64, true, false, Auth.NONE),
    /**
     * {@link #THROUGHPUT} through a WebSocket API route whose {@code $default} integration runs in the gateway
     * and replies with the message it got; the direct side is the backend's echo, as for {@link #THROUGHPUT}.
     */
    API_INPROCESS("api-inprocess", Kind.ECHO, 200, 1, 64, false, false, Auth.NONE),
    /**
     * {@link #THROUGHPUT} through a WebSocket API route whose {@code $default} integration is the backend's HTTP
     * echo: the gateway POSTs each message's event and sends the answer back as the reply. Each round also
     * runs {@link Side#HTTP_CLIENT}: Jetty's {@code HttpClient} POSTing such events to the same endpoint.
     */
    API_HTTP("api-http", Kind.ECHO, 200, 1, 64, false, false, Auth.NONE),
    /** 50 connections, each with four 64 B binary messages in flight: messages per second. */
    PIPELINED("pipelined", Kind.ECHO, 50, 4, 64, false, false, Auth.NONE),
    /** 10 connections, each with four 16 KiB binary messages in flight: MB per second. */
    BULK_16K("bulk-16k", Kind.ECHO, 10, 4, 16 * 1024, false, true, Auth.NONE),
    /** 10 connections, each with four 1 MiB binary messages in flight: MB per second. */
    BULK_1M("bulk-1m", Kind.ECHO, 10, 4, 1024 * 1024, false, true, Auth.NONE),
    /** 10 connections at 2,000 messages per second in all, open loop: round-trip percentiles. */
    LATENCY("latency", Kind.LATENCY, 10, 0, 64, false, false, Auth.NONE),
    /** 16 workers each connecting then closing, without authentication: handshakes per second. */
    HANDSHAKES("handshakes", Kind.HANDSHAKES, 16, 0, 0, false, false, Auth.NONE),
    /**
     * {@link #HANDSHAKES} with an HS256 JWT verified by the gateway on every handshake. The direct side is
     * the same plain handshake as {@link #HANDSHAKES}'s: the backend has no authentication.
     */
    HANDSHAKES_HS256("handshakes-hs256", Kind.HANDSHAKES, 16, 0, 0, false, false, Auth.JWT_HS256),
    /** {@link #HANDSHAKES_HS256} with an RS256 JWT (2048-bit RSA); the direct side is again unauthenticated. */
    HANDSHAKES_RS256("handshakes-rs256", Kind.HANDSHAKES, 16, 0, 0, false, false, Auth.JWT_RS256),
    /**
     * 1,000 connections to the gateway's {@link GatewayRole#PUSH_PATH} route, all in one group, and a closed loop
     * of four {@code POST /groups/{g}/:send} (64 B text) in flight on the management API, each followed by the
     * next once every member received its message: deliveries per second. Gateway only: there is no direct
     * equivalent.
     */
    FANOUT("fanout", Kind.FANOUT, 1000, 4, 64, true, false, Auth.NONE),
    /**
     * 200 connections to {@link GatewayRole#PUSH_PATH}, each with one {@code POST /@connections/{id}} (64 B text) in
     * flight, the next sent once it was answered 200 and its client received the message: POSTs per second.
     * Gateway only.
     */
    POST_CONNECTION("post-connection", Kind.POST_CONNECTION, 200, 1, 64, true, false, Auth.NONE),
    /** 9,000 bridged connections held open: gateway memory per connection, and whether all still echo. */
    IDLE("idle", Kind.IDLE, 9000, 0, 64, false, false, Auth.NONE),
    /**
     * {@link #POST_CONNECTION}'s load on two gateway nodes that form one Hazelcast cluster, the connections on node
     * A: each round POSTs to A itself ({@link Side#LOCAL}), then to B ({@link Side#CLUSTER}), which forwards every
     * POST through Hazelcast to A. Both nodes' CPU is measured.
     */
    POST_CONNECTION_CROSS("post-connection-cross", Kind.POST_CONNECTION, 200, 1, 64, true, false, Auth.NONE),
    /**
     * {@link #HANDSHAKES_HS256} to {@link GatewayRole#LIMITED_PATH}, a route with at most {@link #SHARED_LIMIT}
     * connections per principal, each worker its own principal: on a gateway without a cluster
     * ({@link Side#LOCAL}), on node A of a two-member cluster that counts the limit on the key's partition
     * ({@link Side#CLUSTER}), and on A's {@code /echo}, the same route without the limit ({@link Side#CLUSTER_OPEN});
     * then to {@link GatewayRole#RATE_LIMITED_PATH}, a route with a per-principal rate limit of {@link #SHARED_RATE}
     * handshakes a second, counted in memory on the gateway without a cluster ({@link Side#LOCAL_RATE}) and in the
     * cluster's store on A ({@link Side#CLUSTER_RATE}).
     */
    HANDSHAKES_SHARED_LIMIT("handshakes-shared-limit", Kind.HANDSHAKES, 16, 0, 0, false, false, Auth.JWT_HS256);

    /** How a scenario drives its connections. */
    enum Kind {
        /** Closed loop: a fixed number of messages in flight per connection, each echo answered by a send. */
        ECHO,
        /** Open loop at a fixed rate, latency from the intended send time (coordinated omission corrected). */
        LATENCY,
        /** Connect-then-close loops. */
        HANDSHAKES,
        /** Closed loop of management sends to one group of connections ({@link PushLoad}). */
        FANOUT,
        /** Closed loop of management sends to single connections ({@link PushLoad}). */
        POST_CONNECTION,
        /** Many connections opened, held, then checked. */
        IDLE
    }

    /**
     * {@link #HANDSHAKES_SHARED_LIMIT}'s connections per principal: far more than a worker ever holds (one, and one
     * closing), so that no handshake is refused, and the figures are the counter's cost. Not 4: a clustered node
     * takes a slot synchronously but gives it back asynchronously, queued behind the directory's writes, and on a
     * busy machine a worker that reconnects at once then finds its earlier slots still held (with 4, one round
     * saw 6,056 handshakes fail on the cluster and none on one node).
     */
    static final int SHARED_LIMIT = 10_000;

    /**
     * {@link #HANDSHAKES_SHARED_LIMIT}'s rate limit per principal, in handshakes a second and in the burst: far more
     * than a worker ever makes, so that no handshake is refused, and the figures are the bucket's cost.
     */
    static final int SHARED_RATE = 1_000_000;

    /** The aggregate send rate of {@link #LATENCY}, in messages per second. */
    static final int LATENCY_RATE = 2000;

    private final String flag;
    private final Kind kind;
    private final int connections;
    private final int inFlight;
    private final int size;
    private final boolean text;
    private final boolean bulk;
    private final Auth auth;

    Scenario(String flag, Kind kind, int connections, int inFlight, int size, boolean text, boolean bulk, Auth auth) {
        this.flag = flag;
        this.kind = kind;
        this.connections = connections;
        this.inFlight = inFlight;
        this.size = size;
        this.text = text;
        this.bulk = bulk;
        this.auth = auth;
    }

    /** The path of the gateway's route that the gateway side's connections go to. */
    String gatewayPath() {
        switch (this) {
            case API_INPROCESS:
                return GatewayRole.API_INPROCESS_PATH;
            case API_HTTP:
                return GatewayRole.API_HTTP_PATH;
            case FANOUT:
            case POST_CONNECTION:
            case POST_CONNECTION_CROSS:
                return GatewayRole.PUSH_PATH;
            case HANDSHAKES_SHARED_LIMIT:
                return GatewayRole.LIMITED_PATH;
            default:
                return "/echo";
        }
    }

    /**
     * The path that a side's connections go to: {@link #gatewayPath()}, but for {@link #HANDSHAKES_SHARED_LIMIT}
     * {@code /echo} on {@link Side#CLUSTER_OPEN} and {@link GatewayRole#RATE_LIMITED_PATH} on the rate sides.
     */
    String gatewayPath(Side side) {
        if (this == HANDSHAKES_SHARED_LIMIT) {
            if (side == Side.CLUSTER_OPEN) {
                return "/echo";
            }
            if (side == Side.LOCAL_RATE || side == Side.CLUSTER_RATE) {
                return GatewayRole.RATE_LIMITED_PATH;
            }
        }
        return gatewayPath();
    }

    /** Whether the gateway side goes through a WebSocket API route, which only Gatehouse has. */
    boolean webSocketApi() {
        return this == API_INPROCESS || this == API_HTTP;
    }

    /** Whether the scenario drives the gateway's HTTP management API, which only Gatehouse has. */
    boolean management() {
        return kind == Kind.FANOUT || kind == Kind.POST_CONNECTION;
    }

    /** Whether the scenario runs gateway nodes that form a Hazelcast cluster, on processes of its own. */
    boolean cluster() {
        return this == POST_CONNECTION_CROSS || this == HANDSHAKES_SHARED_LIMIT;
    }

    /** Whether the scenario needs Gatehouse in the gateway JVM: a reference relay has no such routes or API. */
    boolean gatehouseOnly() {
        return webSocketApi() || management() || cluster();
    }

    /**
     * The sides of each round, in order. The management scenarios have only the gateway's: nothing but the
     * gateway has a management API, so there is no direct run. The cluster scenarios compare one node with the
     * cluster.
     */
    List<Side> sides() {
        if (this == POST_CONNECTION_CROSS) {
            return List.of(Side.LOCAL, Side.CLUSTER);
        }
        if (this == HANDSHAKES_SHARED_LIMIT) {
            return List.of(Side.LOCAL, Side.CLUSTER, Side.CLUSTER_OPEN, Side.LOCAL_RATE, Side.CLUSTER_RATE);
        }
        if (management()) {
            return List.of(Side.GATEWAY);
        }
        return this == API_HTTP ? List.of(Side.DIRECT, Side.GATEWAY, Side.HTTP_CLIENT) : List.of(Side.DIRECT, Side.GATEWAY);
    }

    /** The name on the command line and in the table. */
    String flag() {
        return flag;
    }

    Kind kind() {
        return kind;
    }

    /** Connections (or workers, for {@link #HANDSHAKES}) unless overridden. */
    int connections() {
        return connections;
    }

    /**
     * Messages in flight per connection, for {@link Kind#ECHO} and {@link Kind#POST_CONNECTION}; POSTs in flight to
     * the whole group for {@link Kind#FANOUT}.
     */
    int inFlight() {
        return inFlight;
    }

    /** Message size in bytes (characters for text). */
    int size() {
        return size;
    }

    /** Whether the figure is MB/s rather than messages/s. */
    boolean bulk() {
        return bulk;
    }

    /**
     * How the gateway authenticates the scenario's clients. The direct side never authenticates: the
     * backend has no authenticator, so its figure is always that of a plain handshake.
     */
    Auth auth() {
        return auth;
    }

    /** Whether the messages are text. */
    boolean text() {
        return text;
    }

    /** The scenario's shape as the table shows it, e.g. {@code 200×1 64 B binary}. */
    String shape(int connectionCount) {
        switch (kind) {
            case ECHO:
                return connectionCount + "×" + inFlight + " " + sizeLabel(size) + (text() ? " text" : " binary")
                        + (this == API_INPROCESS ? ", in-process route" : this == API_HTTP ? ", HTTP route" : "");
            case LATENCY:
                return connectionCount + " conns, " + LATENCY_RATE + " msg/s, " + sizeLabel(size);
            case HANDSHAKES:
                if (this == HANDSHAKES_SHARED_LIMIT) {
                    return connectionCount + " workers, " + auth.algorithm() + " JWT each, limit " + Table.count(SHARED_LIMIT)
                            + " conns per principal";
                }
                return connectionCount + " workers, " + (auth == Auth.NONE ? "no auth"
                        : auth.algorithm() + " JWT (direct: no auth)");
            case FANOUT:
                return connectionCount + " members × " + inFlight + " POSTs in flight, " + sizeLabel(size) + " text";
            case POST_CONNECTION:
                return connectionCount + " conns × " + inFlight + " POST in flight, " + sizeLabel(size) + " text";
            default:
                return connectionCount + " bridged conns";
        }
    }

    /**
     * The scenario named on the command line.
     *
     * @throws UsageException for an unknown name
     */
    static Scenario parse(String name) {
        String n = name.toLowerCase(Locale.ROOT);
        for (Scenario s : values()) {
            if (s.flag.equals(n)) {
                return s;
            }
        }
        StringBuilder names = new StringBuilder();
        for (Scenario s : values()) {
            names.append(s.flag).append(", ");
        }
        throw new UsageException("unknown scenario " + name + " (expected: " + names + "or all)");
    }

    static String sizeLabel(int bytes) {
        if (bytes >= 1024 * 1024 && bytes % (1024 * 1024) == 0) {
            return bytes / (1024 * 1024) + " MiB";
        }
        if (bytes >= 1024 && bytes % 1024 == 0) {
            return bytes / 1024 + " KiB";
        }
        return bytes + " B";
    }
}
