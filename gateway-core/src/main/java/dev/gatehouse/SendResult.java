package dev.gatehouse;

/** What became of a message sent to one connection through {@link Connections#send(String, Message)}. */
public enum SendResult {
    /**
     * Handed to the connection: it is in the connection's outbound queue and goes to the client at the next
     * message boundary (HTTP 200).
     */
    QUEUED,
    /** No open connection has that id: it never existed, or it closed (HTTP 410). */
    GONE,
    /**
     * Refused: the connection's outbound queue holds {@link Settings#maxOutboundQueue()} bytes already, its
     * client reading more slowly than messages arrive (HTTP 429). The connection is not harmed, unless
     * {@link Settings#outboundOverflow()} is {@link OverflowAction#CLOSE}: then this send also closed it, the
     * client with 1013 "try again later" and the backend with 1001.
     */
    QUEUE_FULL,
    /**
     * Refused: the message is larger than {@link Settings#maxOutboundQueue()} allows, so it could never be
     * queued; the connection is not harmed (HTTP 413).
     */
    TOO_LARGE
}
