package dev.univar.data;

import java.io.IOException;
import java.io.InputStream;
import java.io.Reader;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * Reads UTF-8 text a line at a time, decoding each line on its own so that invalid UTF-8 is reported with the
 * exact line it is on (a decoder over the whole stream reads ahead and cannot say). A leading byte-order mark is
 * dropped. As a {@link Reader} (for the CSV parser) it serves the same lines with their original terminators and
 * remembers where each line starts, so a character position can be turned back into a line number.
 */
final class Utf8LineReader extends Reader {
    private final Path file;
    private final InputStream in;
    private final CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
            .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
    private final byte[] buf = new byte[1 << 16];
    private int bufPos, bufLen;
    private byte[] line = new byte[256];
    private long lineNo;
    private boolean first = true;

    // The Reader view: the current line's characters, and the start offset of every line not yet looked up.
    private String pending = "";
    private int pendingPos;
    private long charsServed;
    private long[] lineStarts = new long[64];
    private long firstIndexedLine = 1;
    private int indexed;

    Utf8LineReader(Path file, InputStream in) {
        this.file = file;
        this.in = in;
    }

    /** Lines read so far (the 1-based number of the last line returned). */
    long lineNumber() {
        return lineNo;
    }

    /** The next line without its terminator ({@code \n} or {@code \r\n}), or null at the end. */
    String readLine() throws IOException {
        String s = readLineWithTerminator();
        if (s == null) return null;
        int end = s.length();
        if (end > 0 && s.charAt(end - 1) == '\n') end--;
        if (end > 0 && s.charAt(end - 1) == '\r') end--;
        return s.substring(0, end);
    }

    private String readLineWithTerminator() throws IOException {
        int n = 0;
        boolean any = false;
        while (true) {
            if (bufPos == bufLen) {
                bufLen = in.read(buf, 0, buf.length);
                bufPos = 0;
                if (bufLen <= 0) {
                    bufLen = 0;
                    break;
                }
            }
            any = true;
            int start = bufPos, nl = -1;
            for (int i = bufPos; i < bufLen; i++) {
                if (buf[i] == '\n') {
                    nl = i;
                    break;
                }
            }
            int end = nl >= 0 ? nl + 1 : bufLen;
            int len = end - start;
            if (n + len > line.length) line = Arrays.copyOf(line, Math.max(line.length * 2, n + len));
            System.arraycopy(buf, start, line, n, len);
            n += len;
            bufPos = end;
            if (nl >= 0) break;
        }
        if (!any && n == 0) return null;
        lineNo++;
        int offset = 0;
        if (first) {
            first = false;
            if (n >= 3 && (line[0] & 0xFF) == 0xEF && (line[1] & 0xFF) == 0xBB && (line[2] & 0xFF) == 0xBF) offset = 3;
        }
        try {
            CharBuffer chars = decoder.reset().decode(ByteBuffer.wrap(line, offset, n - offset));
            return chars.toString();
        } catch (CharacterCodingException e) {
            throw new InputException(file, lineNo, "invalid UTF-8", e);
        }
    }

    @Override
    public int read(char[] cbuf, int off, int len) throws IOException {
        if (len == 0) return 0;
        if (pendingPos == pending.length()) {
            String next = readLineWithTerminator();
            if (next == null) return -1;
            rememberLineStart(charsServed);
            pending = next;
            pendingPos = 0;
        }
        int n = Math.min(len, pending.length() - pendingPos);
        pending.getChars(pendingPos, pendingPos + n, cbuf, off);
        pendingPos += n;
        charsServed += n;
        return n;
    }

    private void rememberLineStart(long charOffset) {
        if (indexed == lineStarts.length) lineStarts = Arrays.copyOf(lineStarts, indexed * 2);
        lineStarts[indexed++] = charOffset;
    }

    /**
     * The 1-based line holding character {@code position} of the served stream. Positions must be asked in
     * increasing order: lines before the answer are forgotten, so memory stays bounded.
     */
    long lineAt(long position) {
        int lo = 0, hi = indexed - 1, found = 0;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            if (lineStarts[mid] <= position) {
                found = mid;
                lo = mid + 1;
            } else {
                hi = mid - 1;
            }
        }
        long line = firstIndexedLine + found;
        if (found > 0) {
            System.arraycopy(lineStarts, found, lineStarts, 0, indexed - found);
            indexed -= found;
            firstIndexedLine += found;
        }
        return line;
    }

    @Override
    public void close() throws IOException {
        in.close();
    }
}
