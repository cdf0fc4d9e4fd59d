package dev.gatehouse;

/**
 * The gateway node that holds a connection could not be reached: it is not a member of the cluster any more
 * (and the directory has not forgotten its connections yet), it did not answer in time, or it left while it
 * ran the operation. The connection may still be open; the operation may be tried again later. The management
 * API answers 503 with {@code Retry-After}. Stages of {@link Connections} fail with it only when the gateway
 * runs in a cluster ({@link Gateway.Builder#cluster}).
 */
public final class NodeUnreachableException extends GatewayException {

    private static final long serialVersionUID = 1L;

    /** The seconds a management client is told to wait before trying again. */
    public static final int RETRY_AFTER_SECONDS = 2;

    /**
     * @param node   the unreachable node's id in the cluster's directory
     * @param reason why it could not be reached
     * @param cause  what the cluster reported, if anything
     */
    public NodeUnreachableException(String node, String reason, Throwable cause) {
        super("node " + node + " is unreachable: " + reason, cause);
    }

    /**
     * @param node   the unreachable node's id in the cluster's directory
     * @param reason why it could not be reached
     */
    public NodeUnreachableException(String node, String reason) {
        super("node " + node + " is unreachable: " + reason);
    }
}
