/**
 * In-session policies, which see the messages of an open connection: a
 * {@link dev.gatehouse.session.MessageFilter} per direction deciding each message's
 * {@link dev.gatehouse.session.MessageAction} (validate, transform, drop, reply, close), and
 * {@link dev.gatehouse.session.MessageLimits}, message and byte rate limits per connection and per principal.
 *
 * <p>Nothing in this package accepts or returns {@code null}; absent values are {@link java.util.Optional}.
 */
package dev.gatehouse.session;
