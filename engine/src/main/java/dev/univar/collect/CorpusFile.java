package dev.univar.collect;

import dev.univar.data.IoFailure;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import dev.univar.data.InputException;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashSet;
import java.util.Set;
import java.util.function.Function;

/**
 * An append-only output of JSON lines, one per finished work item ({@code collect}'s answers, {@code questions
 * generate}'s raw questions, {@code translate}'s translations), each item named by a key that its {@link Format}
 * reads back from the line. One JSON object per line, append-only. Opening it reads what is there, so a rerun
 * skips it, and repairs what an interrupted run can leave: a last line cut short (by {@code kill -9} mid-write or a
 * crash before the page cache reached the disk) is cut off, and its answer is asked again. A bad line anywhere else
 * is not something a crash makes, so it is an error naming the file and line rather than silently dropped.
 * An exclusive lock keeps a second run from writing the same file at the same time. A file this run created and
 * never wrote to is removed on close, so a run that collected nothing (a refused key, an unreachable server) leaves
 * no empty output behind.
 */
public final class CorpusFile<K> implements AutoCloseable {
    /**
     * How the lines of one command's output name their work item: {@code writer} names the command in messages
     * ("univar collect"), {@code key} reads a line's key back, throwing {@link BadLine} for a line without one.
     */
    public record Format<K>(String writer, Function<JsonObject, K> key) {
    }

    /** A line that is not one the format's writer wrote; the message says what it lacks. */
    public static final class BadLine extends RuntimeException {
        public BadLine(String problem) {
            super(problem, null, false, false);
        }
    }

    /** {@code field} of {@code line} as a string, or a {@link BadLine}. */
    public static String string(JsonObject line, String field) {
        JsonElement v = line.get(field);
        if (v == null || !v.isJsonPrimitive() || !v.getAsJsonPrimitive().isString())
            throw new BadLine("no string field '" + field + "'");
        return v.getAsString();
    }

    /** {@code field} of {@code line} as an int, or a {@link BadLine}. */
    public static int integer(JsonObject line, String field) {
        JsonElement v = line.get(field);
        if (v == null || !v.isJsonPrimitive() || !v.getAsJsonPrimitive().isNumber())
            throw new BadLine("no number field '" + field + "'");
        return v.getAsInt();
    }

    /** {@code collect}'s lines: an answer of (model, question, language, sample). */
    public static final Format<WorkItem.Key> COLLECT = new Format<>("univar collect", o -> {
        String model = string(o, "model"), id = string(o, "question_id"), lang = string(o, "lang");
        string(o, "answer");
        return new WorkItem.Key(model, id, lang, integer(o, "sample"));
    });

    /** Lines between fsyncs: each line reaches the OS at once (a killed process loses nothing written); an fsync now
     *  and then bounds what a power loss can take. */
    private static final int SYNC_EVERY_LINES = 256;
    private static final long SYNC_EVERY_NANOS = 2_000_000_000L;

    private final Path file;
    private final Format<K> format;
    private final FileChannel channel;
    private final FileLock lock;
    /** Whether this run created the file (it did not exist before). */
    private final boolean created;
    private final Set<K> done = new HashSet<>();
    private long validLines;
    private boolean repaired;
    private int unsynced;
    private long lastSync = System.nanoTime();

    private CorpusFile(Path file, Format<K> format) throws IOException {
        this.file = file;
        this.format = format;
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) Files.createDirectories(parent);
        for (int tries = 1; ; tries++) {
            boolean isNew;
            FileChannel ch;
            try {
                ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ, StandardOpenOption.WRITE);
                isNew = true;
            } catch (FileAlreadyExistsException e) {
                ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE);
                isNew = false;
            }
            FileLock l;
            try {
                l = ch.tryLock();
            } catch (OverlappingFileLockException e) {
                l = null;
            } catch (IOException e) {
                ch.close();
                throw e;
            }
            if (l == null) {
                ch.close();
                throw new InputException(file, 0, "another " + format.writer() + " is writing this file");
            }
            // A run that created the file and wrote nothing removes it before letting go of the lock: if that
            // happened between our open and our lock, we hold a file no longer there, and start over.
            if (!isNew && !Files.exists(file) && tries < 3) {
                l.release();
                ch.close();
                continue;
            }
            this.channel = ch;
            this.lock = l;
            this.created = isNew;
            return;
        }
    }

    /** Opens (creating) {@code collect}'s output {@code file}, reading and repairing what it holds. */
    public static CorpusFile<WorkItem.Key> open(Path file) {
        return open(file, COLLECT);
    }

    /** Opens (creating) {@code file}, whose lines are in {@code format}, reading and repairing what it holds. */
    public static <K> CorpusFile<K> open(Path file, Format<K> format) {
        CorpusFile<K> c;
        try {
            c = new CorpusFile<>(file, format);
        } catch (IOException e) {
            throw new InputException(file, 0, "cannot open for writing: " + IoFailure.reason(e), e);
        }
        try {
            c.scan();
        } catch (RuntimeException | IOException e) {
            c.close();
            if (e instanceof IOException io) throw new InputException(file, 0, "cannot read: " + IoFailure.reason(io), io);
            throw (RuntimeException) e;
        }
        return c;
    }

    /** What the file held when opened (and what was appended since). */
    public Set<K> done() {
        return done;
    }

    public long validLines() {
        return validLines;
    }

    /** Whether opening cut off a broken last line. */
    public boolean repaired() {
        return repaired;
    }

    private void scan() throws IOException {
        long size = channel.size();
        ByteBuffer buf = ByteBuffer.allocate(1 << 16);
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        long pos = 0, lineStart = 0, lineNo = 0;
        // The previous complete line's problem, held back until we know whether it was the last line.
        String pendingProblem = null;
        long pendingStart = 0, pendingNo = 0;
        channel.position(0);
        while (pos < size) {
            buf.clear();
            int n = channel.read(buf);
            if (n < 0) break;
            for (int i = 0; i < n; i++) {
                byte b = buf.get(i);
                if (b != '\n') {
                    line.write(b);
                    continue;
                }
                lineNo++;
                if (pendingProblem != null) throw new InputException(file, pendingNo, pendingProblem);
                String problem = accept(line.toByteArray());
                if (problem != null) {
                    pendingProblem = problem;
                    pendingStart = lineStart;
                    pendingNo = lineNo;
                }
                line.reset();
                lineStart = pos + i + 1;
            }
            pos += n;
        }
        if (line.size() > 0) {
            // No newline at the end: a write cut short, unless the line happens to be complete.
            if (pendingProblem != null) throw new InputException(file, pendingNo, pendingProblem);
            if (accept(line.toByteArray()) == null) {
                writeFully(ByteBuffer.wrap(new byte[]{'\n'}), size);
                size++;
            } else {
                truncate(lineStart);
                size = lineStart;
            }
        } else if (pendingProblem != null) {
            truncate(pendingStart);
            size = pendingStart;
        }
        channel.position(size);
    }

    private void truncate(long at) throws IOException {
        channel.truncate(at);
        channel.force(true);
        repaired = true;
    }

    /** Adds a line's key to {@link #done}; returns what is wrong with it, or null. Blank lines are tolerated. */
    private String accept(byte[] bytes) {
        String text = new String(bytes, StandardCharsets.UTF_8);
        if (text.isBlank()) return null;
        JsonElement e;
        try {
            e = JsonParser.parseString(text);
        } catch (JsonParseException ex) {
            return "malformed JSON (not a line " + format.writer() + " wrote)";
        }
        if (!e.isJsonObject()) return "expected a JSON object";
        try {
            done.add(format.key().apply(e.getAsJsonObject()));
        } catch (BadLine bad) {
            return bad.getMessage() + " (not a line " + format.writer() + " wrote)";
        }
        validLines++;
        return null;
    }

    /** Appends one line in a single write, so concurrent answers never interleave and a kill cuts at most one line. */
    public synchronized void append(K key, String json) {
        byte[] bytes = (json + "\n").getBytes(StandardCharsets.UTF_8);
        try {
            ByteBuffer b = ByteBuffer.wrap(bytes);
            while (b.hasRemaining()) channel.write(b);
            done.add(key);
            validLines++;
            if (++unsynced >= SYNC_EVERY_LINES || System.nanoTime() - lastSync > SYNC_EVERY_NANOS) sync();
        } catch (IOException e) {
            throw writeFailed(e);
        }
    }

    /** "FILE: cannot write: REASON", both as the message and as the cause's (which the command line prints). */
    private UncheckedIOException writeFailed(IOException e) {
        String message = file + ": cannot write: " + IoFailure.reason(e);
        return new UncheckedIOException(message, new IOException(message, e));
    }

    private void writeFully(ByteBuffer b, long at) throws IOException {
        while (b.hasRemaining()) at += channel.write(b, at);
    }

    private void sync() throws IOException {
        channel.force(false);
        unsynced = 0;
        lastSync = System.nanoTime();
    }

    @Override
    public synchronized void close() {
        try {
            if (channel.isOpen()) {
                if (created && channel.size() == 0) Files.deleteIfExists(file); // nothing written: leave nothing
                else if (unsynced > 0) sync();
                if (lock.isValid()) lock.release();
                channel.close();
            }
        } catch (IOException e) {
            throw writeFailed(e);
        }
    }
}
