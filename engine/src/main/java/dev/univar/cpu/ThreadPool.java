package dev.univar.cpu;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntConsumer;

/**
 * A small fork-join pool for the kernels: {@code threads - 1} persistent daemon workers plus the calling
 * thread. A kernel call is a handful of equal parts, so this is far simpler (and allocates nothing per call)
 * compared with an ExecutorService and futures.
 *
 * <p>Workers spin briefly before parking because kernel calls come in quick succession during a forward
 * pass; waking a parked thread costs tens of microseconds. Calls are serialised: a part must not call
 * {@link #run} again (that would deadlock on a worker that waits for itself).
 */
final class ThreadPool implements AutoCloseable {

    private static final int SPIN = 2_000;

    private final Worker[] workers;
    private final AtomicInteger pending = new AtomicInteger();
    private volatile Thread caller;
    private volatile boolean closed;

    ThreadPool(int threads) {
        if (threads < 1) throw new IllegalArgumentException("threads " + threads);
        workers = new Worker[threads - 1];
        for (int i = 0; i < workers.length; i++) {
            workers[i] = new Worker(i + 1);
            workers[i].thread.start();
        }
    }

    int threads() {
        return workers.length + 1;
    }

    /** Runs {@code body.accept(p)} for p in [0, parts), in parallel, and returns when all are done. */
    synchronized void run(int parts, IntConsumer body) {
        if (closed) throw new IllegalStateException("thread pool closed");
        if (parts > threads()) throw new IllegalArgumentException(parts + " parts on " + threads() + " threads");
        if (parts <= 1) {
            if (parts == 1) body.accept(0);
            return;
        }
        caller = Thread.currentThread();
        pending.set(parts - 1);
        for (int p = 1; p < parts; p++) workers[p - 1].submit(body);
        Throwable failure = null;
        try {
            body.accept(0);
        } catch (Throwable t) {
            failure = t;
        }
        for (int spin = 0; pending.get() != 0; spin++) {
            if (spin < SPIN) Thread.onSpinWait();
            else LockSupport.park(this);
        }
        for (int p = 1; p < parts; p++) {
            Throwable t = workers[p - 1].takeFailure();
            if (t == null) continue;
            if (failure == null) failure = t;
            else failure.addSuppressed(t);
        }
        if (failure instanceof RuntimeException e) throw e;
        if (failure instanceof Error e) throw e;
        if (failure != null) throw new RuntimeException(failure);
    }

    @Override
    public void close() {
        closed = true;
        for (Worker w : workers) LockSupport.unpark(w.thread);
    }

    private final class Worker implements Runnable {
        final int index;
        final Thread thread;
        volatile IntConsumer task;
        Throwable failure;

        Worker(int index) {
            this.index = index;
            thread = new Thread(this, "univar-cpu-" + index);
            thread.setDaemon(true);
        }

        void submit(IntConsumer body) {
            task = body;
            LockSupport.unpark(thread);
        }

        Throwable takeFailure() {
            Throwable t = failure;
            failure = null;
            return t;
        }

        @Override
        public void run() {
            while (!closed) {
                IntConsumer body = task;
                for (int spin = 0; body == null && !closed; spin++) {
                    if (spin < SPIN) Thread.onSpinWait();
                    else LockSupport.park(this);
                    body = task;
                }
                if (body == null) return;
                try {
                    body.accept(index);
                } catch (Throwable t) {
                    failure = t;
                }
                task = null;
                if (pending.decrementAndGet() == 0) LockSupport.unpark(caller);
            }
        }
    }
}
