package dev.gatehouse.jetty.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Optional;

import org.junit.jupiter.api.Test;

/** Parsing and choosing the client's extension offers; the handshakes are in ExtensionNegotiationTest. */
class ExtensionOffersTest {

    private static Optional<String> accepted(String... headerValues) {
        return ExtensionOffers.accepted(List.of(headerValues));
    }

    @Test
    void acceptsWhatBrowsersOffer() {
        assertEquals(Optional.of("permessage-deflate; client_max_window_bits"),
                accepted("permessage-deflate; client_max_window_bits"));
    }

    @Test
    void writesTheAcceptedOfferInANormalForm() {
        assertEquals(Optional.of("permessage-deflate; client_no_context_takeover; client_max_window_bits=9"),
                accepted("Permessage-Deflate ;\tClient_No_Context_Takeover ; client_max_window_bits = \"9\""));
    }

    @Test
    void unquotesEscapesInAQuotedValue() {
        assertEquals(Optional.of("permessage-deflate; client_max_window_bits=12"),
                accepted("permessage-deflate; client_max_window_bits=\"1\\2\""));
    }

    @Test
    void declinesAQuotedValueThatIsNotAToken() {
        assertEquals(Optional.empty(), accepted("permessage-deflate; client_max_window_bits=\"1 2\""));
        assertEquals(Optional.empty(), accepted("permessage-deflate; client_max_window_bits=\"\""));
    }

    @Test
    void aCommaInsideAQuotedValueDoesNotSplitTheOffer() {
        assertEquals(Optional.of("permessage-deflate"), accepted("x; a=\"b, permessage-deflate\", permessage-deflate"));
    }

    @Test
    void anUnterminatedQuoteSpoilsTheRestOfItsHeaderLineOnly() {
        assertEquals(Optional.empty(), accepted("x; a=\"b, permessage-deflate"));
        assertEquals(Optional.of("permessage-deflate"), accepted("x; a=\"b, permessage-deflate", "permessage-deflate"));
    }

    @Test
    void takesTheFirstWellFormedOfferAcrossHeaderLines() {
        assertEquals(Optional.of("permessage-deflate; server_no_context_takeover"),
                accepted("permessage-deflate; server_max_window_bits=10", ",,",
                        "permessage-deflate; server_no_context_takeover, permessage-deflate"));
    }

    @Test
    void acceptsEveryWindowSizeFrom8To15AndNoOther() {
        for (int bits = 0; bits <= 20; bits++) {
            Optional<String> expected = bits >= 8 && bits <= 15
                    ? Optional.of("permessage-deflate; client_max_window_bits=" + bits)
                    : Optional.empty();
            assertEquals(expected, accepted("permessage-deflate; client_max_window_bits=" + bits), "bits " + bits);
        }
    }
}
