package dev.gatehouse.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import dev.gatehouse.jetty.RecordingListener;

/** The demo's chat rooms at {@code /rooms}: a WebSocket API route with in-process integrations, through the runner. */
class DemoRoomsTest {

    private Runner runner;

    @BeforeEach
    void startTheDemo() {
        runner = Runner.started();
    }

    @AfterEach
    void stopTheDemo() {
        runner.close();
    }

    /** A client of {@code /rooms} and what it received. */
    private record Client(WebSocket ws, RecordingListener events) {
        void say(String json) throws Exception {
            ws.sendText(json, true).get(5, TimeUnit.SECONDS);
        }

        void join(String room) throws Exception {
            say("{\"action\":\"join\",\"room\":\"" + room + "\"}");
            events.assertText("{\"type\":\"joined\",\"room\":\"" + room + "\"}");
        }

        void send(String room, String name, String text) throws Exception {
            say("{\"action\":\"send\",\"room\":\"" + room + "\",\"name\":\"" + name + "\",\"text\":\"" + text + "\"}");
        }

        void assertMessage(String room, String from, String text) throws InterruptedException {
            events.assertText("{\"type\":\"message\",\"room\":\"" + room + "\",\"from\":\"" + from + "\",\"text\":\""
                    + text + "\"}");
        }

        void assertError(String message) throws InterruptedException {
            events.assertText("{\"type\":\"error\",\"message\":\"" + message + "\"}");
        }
    }

    private Client connect() throws Exception {
        RecordingListener events = new RecordingListener();
        return new Client(runner.connect("/rooms", events), events);
    }

    @Test
    void sendsToEveryMemberOfTheRoomAndNoOneElse() throws Exception {
        Client alice = connect();
        Client bob = connect();
        Client carol = connect();
        alice.join("blue");
        bob.join("blue");
        carol.join("red");

        alice.send("blue", "alice", "hi");
        alice.assertMessage("blue", "alice", "hi");
        bob.assertMessage("blue", "alice", "hi");

        bob.send("blue", "bob", "hello");
        bob.assertMessage("blue", "bob", "hello");
        alice.assertMessage("blue", "bob", "hello");

        // Carol's room is separate: the first message she gets is her own.
        carol.send("red", "carol", "anyone?");
        carol.assertMessage("red", "carol", "anyone?");
        carol.events().assertNoMoreEvents();
        alice.events().assertNoMoreEvents();
        bob.events().assertNoMoreEvents();
    }

    @Test
    void joiningAnotherRoomLeavesThePreviousOne() throws Exception {
        Client alice = connect();
        Client bob = connect();
        alice.join("blue");
        bob.join("blue");

        alice.say("{\"action\":\"join\",\"room\":\"red\"}");
        alice.events().assertText("{\"type\":\"joined\",\"room\":\"red\",\"left\":\"blue\"}");
        bob.send("blue", "bob", "still there?");
        bob.assertMessage("blue", "bob", "still there?");

        // Alice is in red only: the first message she gets is her own there, and blue is closed to her.
        alice.send("red", "alice", "over here");
        alice.assertMessage("red", "alice", "over here");
        alice.send("blue", "alice", "back?");
        alice.assertError("room: not joined \\\"blue\\\" (expected: join it first)");
        bob.events().assertNoMoreEvents();

        // Joining the room it is in changes nothing.
        alice.join("red");
        alice.send("red", "alice", "same room");
        alice.assertMessage("red", "alice", "same room");
    }

    @Test
    void answersBadInputWithAnErrorAndStaysConnected() throws Exception {
        Client c = connect();
        String longRoom = "r".repeat(257);
        String longText = "t".repeat(DemoRooms.MAX_TEXT_LENGTH + 1);
        Map<String, String> bad = new LinkedHashMap<>();
        bad.put("{\"action\":\"join\"}", "room: missing (expected: a string, e.g. \\\"lobby\\\")");
        bad.put("{\"action\":\"join\",\"room\":42}", "room: 42 (expected: a string, e.g. \\\"lobby\\\")");
        bad.put("{\"action\":\"join\",\"room\":\"\"}", "room: 0 characters (expected: 1 to 256)");
        bad.put("{\"action\":\"join\",\"room\":\"" + longRoom + "\"}", "room: 257 characters (expected: 1 to 256)");
        bad.put("{\"action\":\"join\",\"room\":\"a\\u0007b\"}",
                "room: holds a control character at 1 (expected: printable text)");
        bad.put("{\"action\":\"send\",\"room\":\"blue\",\"text\":\"hi\"}",
                "room: not joined \\\"blue\\\" (expected: join it first)");
        bad.put("{\"action\":\"send\",\"room\":\"blue\"}", "text: missing (expected: a string)");
        bad.put("{\"action\":\"send\",\"room\":\"blue\",\"text\":\"  \"}",
                "text: 2 characters (expected: 1 to 2000, not blank)");
        bad.put("{\"action\":\"send\",\"room\":\"blue\",\"text\":\"" + longText + "\"}",
                "text: 2001 characters (expected: 1 to 2000, not blank)");
        bad.put("{\"action\":\"send\",\"room\":\"blue\",\"text\":\"hi\",\"name\":[]}", "name: [] (expected: a string)");
        bad.put("{\"action\":\"dance\"}", "action: \\\"dance\\\" (expected: join or send)");
        bad.put("{\"room\":\"blue\"}", "action: missing (expected: join or send)");
        bad.put("not json", "not a JSON object (expected: send {\\\"action\\\":\\\"join\\\",\\\"room\\\":\\\"lobby\\\"}, "
                + "then {\\\"action\\\":\\\"send\\\",\\\"room\\\":\\\"lobby\\\",\\\"text\\\":\\\"hi\\\"})");
        for (Map.Entry<String, String> e : bad.entrySet()) {
            c.say(e.getKey());
            c.assertError(e.getValue());
        }
        c.ws().sendBinary(ByteBuffer.wrap(new byte[] {1, 2}), true).get(5, TimeUnit.SECONDS);
        c.assertError("a binary message (expected: JSON text; send {\\\"action\\\":\\\"join\\\",\\\"room\\\":\\\"lobby\\\"}, "
                + "then {\\\"action\\\":\\\"send\\\",\\\"room\\\":\\\"lobby\\\",\\\"text\\\":\\\"hi\\\"})");

        // Still connected, and the rooms work.
        c.join("blue");
        c.send("blue", "dave", "fine");
        c.assertMessage("blue", "dave", "fine");
    }

    @Test
    void sendsWithoutANameAsAnonymous() throws Exception {
        Client c = connect();
        c.join("room with spaces");
        c.say("{\"action\":\"send\",\"room\":\"room with spaces\",\"text\":\"psst\"}");
        c.assertMessage("room with spaces", "anonymous", "psst");
    }

    @Test
    void servesAChatPageThatUsesTheRoomsRoute() throws Exception {
        HttpResponse<String> page = runner.get("/");
        assertEquals(200, page.statusCode());
        assertTrue(page.body().contains("'/rooms'"), page.body());
        assertTrue(page.body().contains("action: 'join'"), page.body());
        assertTrue(page.body().contains("action: 'send'"), page.body());
    }

    @Test
    void printsHowToUseTheRoomsRoute() {
        String line = "demo: chat rooms as a WebSocket API: websocat ws://127.0.0.1:" + runner.port()
                + "/rooms, then send {\"action\":\"join\",\"room\":\"lobby\"} and "
                + "{\"action\":\"send\",\"room\":\"lobby\",\"text\":\"hi\"}";
        assertTrue(runner.out.lines().anyMatch(line::equals), runner.out);
    }
}
