package dev.gatehouse;

/** {@link Policy#none()}. */
enum NoPolicy implements Policy {
    INSTANCE;

    @Override
    public Verdict evaluate(Handshake handshake, Chain chain) {
        return chain.proceed(handshake);
    }

    @Override
    public String toString() {
        return "Policy.none()";
    }
}
