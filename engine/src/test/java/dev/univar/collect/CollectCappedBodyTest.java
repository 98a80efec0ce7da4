package dev.univar.collect;

import org.junit.jupiter.api.Test;

import java.net.http.HttpHeaders;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Flow;

import static org.junit.jupiter.api.Assertions.*;

/** The response-size cap of {@link ChatClient}, on the body subscriber alone. */
class CollectCappedBodyTest {
    /** Counts what the body asked for and whether it hung up. */
    static final class Subscription implements Flow.Subscription {
        long requested;
        boolean cancelled;

        @Override
        public void request(long n) {
            requested += n;
        }

        @Override
        public void cancel() {
            cancelled = true;
        }
    }

    static List<ByteBuffer> bytes(int n) {
        return List.of(ByteBuffer.wrap(new byte[n / 2]), ByteBuffer.wrap(new byte[n - n / 2]));
    }

    @Test
    void aBodyUpToTheCapIsReadWhole() throws Exception {
        var body = new ChatClient.CappedBody(1000, -1);
        var s = new Subscription();
        body.onSubscribe(s);
        for (int i = 0; i < 10; i++) body.onNext(bytes(100));
        body.onComplete();
        assertEquals(1000, body.getBody().toCompletableFuture().get().length);
        assertFalse(s.cancelled);
        assertEquals(11, s.requested, "one buffer at a time");
    }

    @Test
    void oneByteMoreHangsUpAndFails() {
        var body = new ChatClient.CappedBody(1000, -1);
        var s = new Subscription();
        body.onSubscribe(s);
        for (int i = 0; i < 9; i++) body.onNext(bytes(100));
        body.onNext(bytes(101));
        assertTrue(s.cancelled);
        long asked = s.requested;
        body.onNext(bytes(100)); // still in flight when the hang-up came: dropped, nothing more asked
        body.onComplete();
        var e = assertThrows(ExecutionException.class, () -> body.getBody().toCompletableFuture().get());
        assertInstanceOf(ChatClient.TooLarge.class, e.getCause());
        assertEquals(asked, s.requested);
    }

    @Test
    void anAnnouncedOversizeBodyIsNotReadAtAll() {
        var body = new ChatClient.CappedBody(1000, 1001);
        var s = new Subscription();
        body.onSubscribe(s);
        assertTrue(s.cancelled);
        assertEquals(0, s.requested);
        assertTrue(body.getBody().toCompletableFuture().isCompletedExceptionally());
    }

    @Test
    void aContentLengthThatIsNotANumberIsIgnored() {
        assertEquals(-1, ChatClient.contentLength(HttpHeaders.of(Map.of("Content-Length", List.of("lots")), (a, b) -> true)));
        assertEquals(12, ChatClient.contentLength(HttpHeaders.of(Map.of("Content-Length", List.of("12")), (a, b) -> true)));
    }
}
