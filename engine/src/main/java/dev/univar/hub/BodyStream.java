package dev.univar.hub;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Flow;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A response body read chunk by chunk, with a limit on how long to wait for the next chunk. The JDK's
 * {@code ofInputStream} has no such limit: a server that stops sending mid-file would block a read forever. The
 * body is available as soon as the headers are (like {@code ofInputStream}), and asks for one chunk at a time, so
 * that a slow reader holds back the server instead of buffering the file in memory.
 */
final class BodyStream implements HttpResponse.BodySubscriber<BodyStream> {
    private static final Object END = new Object();
    private final BlockingQueue<Object> queue = new LinkedBlockingQueue<>();
    private volatile Flow.Subscription subscription;
    private volatile boolean cancelled;
    private boolean ended;

    static HttpResponse.BodyHandler<BodyStream> handler() {
        return info -> new BodyStream();
    }

    @Override
    public CompletionStage<BodyStream> getBody() {
        return CompletableFuture.completedStage(this);
    }

    @Override
    public void onSubscribe(Flow.Subscription s) {
        subscription = s;
        if (cancelled) s.cancel();
        else s.request(1);
    }

    @Override
    public void onNext(List<ByteBuffer> item) {
        queue.add(item);
    }

    @Override
    public void onError(Throwable t) {
        queue.add(t);
    }

    @Override
    public void onComplete() {
        queue.add(END);
    }

    /** The next chunk of the body, or null at its end; waits at most {@code stall} for it. */
    @SuppressWarnings("unchecked")
    List<ByteBuffer> next(Duration stall) throws IOException {
        if (ended) return null;
        Object o;
        try {
            o = queue.poll(stall.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            cancel();
            throw new InterruptedIOException("interrupted");
        }
        if (o == null) {
            cancel();
            throw new HttpTimeoutException("no data for " + stall.toSeconds() + " s");
        }
        if (o == END) {
            ended = true;
            return null;
        }
        if (o instanceof Throwable t) {
            ended = true;
            if (t instanceof IOException io) throw io;
            throw new IOException(t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage(), t);
        }
        Flow.Subscription s = subscription;
        if (s != null) s.request(1);
        return (List<ByteBuffer>) o;
    }

    /** Up to {@code limit} bytes of the body as text (for error messages), then drops the rest. */
    String text(int limit, Duration stall) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            for (List<ByteBuffer> chunk; out.size() < limit && (chunk = next(stall)) != null; )
                for (ByteBuffer b : chunk) {
                    byte[] buf = new byte[Math.min(b.remaining(), limit - out.size())];
                    b.get(buf);
                    out.write(buf, 0, buf.length);
                }
        } catch (IOException e) {
            // what arrived is enough for a message
        } finally {
            cancel();
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    /** Stops the transfer; the connection is closed rather than reused. */
    void cancel() {
        cancelled = true;
        ended = true;
        Flow.Subscription s = subscription;
        if (s != null) s.cancel();
    }
}
