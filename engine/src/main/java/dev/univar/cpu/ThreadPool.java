package dev.univar.cpu;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
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
 *
 * <p>A part is claimed by whoever starts it first: once the caller has done part 0 it runs, itself, every part
 * that no worker has picked up yet, and then waits only for parts already under way. So a worker that is slow
 * to wake (parked, or descheduled on a busy machine) delays a call by at most one part's work instead of a
 * scheduler time slice, which matters for the many small calls of a short sequence's forward pass.
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
        // Run the parts no worker has started (claiming them as a worker would), then wait for the rest.
        for (int p = 1; p < parts; p++) {
            Worker w = workers[p - 1];
            if (!w.task.compareAndSet(body, null)) continue;
            try {
                body.accept(p);
            } catch (Throwable t) {
                if (failure == null) failure = t;
                else failure.addSuppressed(t);
            }
            pending.decrementAndGet();
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
        /** The part on offer, taken (set to null) by whoever runs it: this worker or the caller. */
        final AtomicReference<IntConsumer> task = new AtomicReference<>();
        Throwable failure;

        Worker(int index) {
            this.index = index;
            thread = new Thread(this, "univar-cpu-" + index);
            thread.setDaemon(true);
        }

        void submit(IntConsumer body) {
            task.set(body);
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
                IntConsumer body = task.get();
                for (int spin = 0; body == null && !closed; spin++) {
                    if (spin < SPIN) Thread.onSpinWait();
                    else LockSupport.park(this);
                    body = task.get();
                }
                if (body == null) return;
                if (!task.compareAndSet(body, null)) continue; // the caller took it
                try {
                    body.accept(index);
                } catch (Throwable t) {
                    failure = t;
                }
                if (pending.decrementAndGet() == 0) LockSupport.unpark(caller);
            }
        }
    }
}
