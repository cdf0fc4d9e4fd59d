/**
 * Ready-made {@link dev.gatehouse.Authenticator}s and what they read credentials from: API keys
 * ({@link dev.gatehouse.auth.ApiKeyAuthenticator}), JWTs signed with a shared secret or by a JWKS
 * ({@link dev.gatehouse.auth.JwtAuthenticator}), your own authorizer with a cache
 * ({@link dev.gatehouse.auth.CustomAuthorizer}), the places a credential may travel
 * ({@link dev.gatehouse.auth.CredentialSource}), and the gateway's brake on guessed credentials
 * ({@link dev.gatehouse.auth.AuthFailureLimit}).
 *
 * <p>Nothing in this package accepts or returns {@code null}; absent values are {@link java.util.Optional}.
 */
package dev.gatehouse.auth;
