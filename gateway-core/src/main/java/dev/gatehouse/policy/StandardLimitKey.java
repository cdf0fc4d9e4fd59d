package dev.gatehouse.policy;

import dev.gatehouse.Handshake;


/** The built-in keys, named for the policies' {@code toString()}. */
enum StandardLimitKey implements LimitKey {
    CLIENT_ADDRESS("client address") {
        @Override
        public String of(Handshake h) {
            return ip(h);
        }
    },
    PRINCIPAL("principal") {
        @Override
        public String of(Handshake h) {
            return h.principal().map(p -> "principal:" + p.subject()).orElseGet(() -> ip(h));
        }
    },
    CONSUMER("consumer") {
        @Override
        public String of(Handshake h) {
            return h.principal()
                    .map(p -> p.consumer().map(c -> "consumer:" + c).orElseGet(() -> "principal:" + p.subject()))
                    .orElseGet(() -> ip(h));
        }
    },
    ROUTE("route") {
        @Override
        public String of(Handshake h) {
            return "route";
        }
    };

    private final String description;

    StandardLimitKey(String description) {
        this.description = description;
    }

    private static String ip(Handshake h) {
        return "ip:" + Cidr.text(h.clientAddress());
    }

    @Override
    public String toString() {
        return description;
    }
}
