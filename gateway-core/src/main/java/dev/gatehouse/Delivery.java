package dev.gatehouse;

/**
 * What became of a message sent to an {@link Audience} through {@link Connections#send(Audience, Message)}.
 *
 * @param recipients how many connections it was handed to (each goes to its client at the next message
 *                   boundary)
 * @param refused    how many matching connections refused it because their outbound queue was full (or
 *                   could never hold a message that large)
 */
public record Delivery(int recipients, int refused) {

    /** Checks that both counts are not negative. */
    public Delivery {
        if (recipients < 0 || refused < 0) {
            throw new IllegalArgumentException("recipients: " + recipients + ", refused: " + refused
                    + " (expected: >= 0)");
        }
    }
}
