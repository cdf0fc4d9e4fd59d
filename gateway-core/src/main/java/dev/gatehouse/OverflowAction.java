package dev.gatehouse;

/**
 * What the gateway does with a connection whose client reads so slowly that a message sent to it through
 * {@link Connections} would overflow its outbound queue ({@link Settings#maxOutboundQueue()}). Either way the
 * send is answered with {@link SendResult#QUEUE_FULL} and the message is not queued.
 */
public enum OverflowAction {
    /** The send is refused and the connection is left alone; its queued messages still go out. The default. */
    REFUSE,
    /**
     * The send is refused and the connection is closed: the slow client with 1013 "try again later" (after the
     * messages already queued for it), the backend with 1001. Later sends to it answer {@link SendResult#GONE}.
     */
    CLOSE
}
